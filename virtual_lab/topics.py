"""The versioned topic tree (see TOPICS.md): nia/v1/<trainee>/<site>/<area>/<line>/<machine>/<channel>."""
from __future__ import annotations

import json
import re

PREFIX = "nia/v1"
CHANNELS = ("meta", "state", "counters", "telemetry", "energy", "events")
RETAINED = frozenset({"meta", "state", "counters", "status"})
VERBS = ("start", "stop", "reset", "hold", "unhold", "suspend", "unsuspend", "abort", "clear", "mode", "setpoint")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def valid_name(name: str) -> bool:
    """Trainee/site/machine names are one topic level: no '/', '+', '#', spaces or upper case."""
    return bool(_NAME.match(name or ""))


def trainee_root(trainee: str, prefix: str = PREFIX) -> str:
    return f"{prefix}/{trainee}"


def line_topic(trainee: str, site: str, area: str, line: str, prefix: str = PREFIX) -> str:
    return f"{prefix}/{trainee}/{site}/{area}/{line}"


def status_topic(line_base: str) -> str:
    return f"{line_base}/status"


def cmd_filter(trainee: str, prefix: str = PREFIX) -> str:
    return f"{prefix}/{trainee}/+/+/+/+/cmd/+"


def channel_of(topic: str) -> str:
    parts = topic.split("/")
    if len(parts) >= 2 and parts[-2] == "cmd":
        return "cmd"
    if parts[-1] == "ack":
        return "ack"
    return parts[-1]


def is_retained(topic: str) -> bool:
    return channel_of(topic) in RETAINED


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode(payload: dict) -> bytes:
    """The one canonical encoding: compact, key order as built, UTF-8. Same payload -> same bytes."""
    return _ENCODER.encode(payload).encode()


def qos_of(topic: str) -> int:
    """QoS 1 for the rare messages that matter one by one (meta, status, events, acks); QoS 0 for the periodic
    ones (telemetry, energy, and state/counters, which are retained, so the latest value is always there)."""
    return 0 if channel_of(topic) in ("telemetry", "energy", "state", "counters") else 1
