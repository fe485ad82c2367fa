"""Notebook client: connect from the environment, browse the namespace, collect records, send commands, replay.

Environment (set by the lab launcher): NIA_MQTT_HOST, NIA_MQTT_PORT, NIA_MQTT_USERNAME, NIA_MQTT_PASSWORD,
NIA_MQTT_TOPIC_PREFIX (nia/v1/<you>). Records are flat dicts (`topic, machine, channel, t_ms, ts_ms, seq, ...`)
so `pandas.DataFrame(records)` just works; `frame()` does that for you.
"""
from __future__ import annotations

import itertools
import json
import os
import queue
import threading
import time
from typing import Any, Iterable

from . import topics
from .transport import ConnectError, connect, make_client, subscribe

__all__ = ["LabClient", "connect_from_env", "flatten", "frame", "replay", "ConnectError"]
_ids = itertools.count(1)


def _env(name: str, default: str = "") -> str:
    """NIA_<name> first, then <name> (the lab launcher sets the plain names in the notebook server)."""
    return os.environ.get(f"NIA_{name}") or os.environ.get(name) or default


def flatten(topic: str, payload: dict[str, Any], t_ms: int | None = None) -> dict[str, Any]:
    """One pandas-friendly row: where it came from plus the payload fields."""
    parts = topic.split("/")
    channel = topics.channel_of(topic)
    machine = parts[6] if len(parts) >= 8 else None  # nia/v1/<trainee>/<site>/<area>/<line>/<machine>/...
    row = {"topic": topic, "machine": machine, "channel": channel}
    if t_ms is not None:
        row["t_ms"] = t_ms
    row.update(payload)
    return row


def frame(records: Iterable[dict[str, Any]]):
    """A pandas DataFrame of records (replay output or collected rows), with a UTC `time` column."""
    import pandas as pd

    rows = [r if "channel" in r else flatten(r["topic"], r["payload"], r.get("t_ms")) for r in records]
    df = pd.DataFrame(rows)
    if "ts_ms" in df:
        df["time"] = pd.to_datetime(df["ts_ms"], unit="ms", utc=True)
    return df


def replay(scenario: str, *, seed: int, trainee: str | None = None, duration_s: float,
           channels: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Offline: the same records your line publishes, as flat rows (trainee defaults to NIA_MQTT_USERNAME)."""
    from . import replay as _replay

    trainee = trainee or _env("MQTT_USERNAME")
    wanted = set(channels) if channels else None
    return [flatten(r["topic"], r["payload"], r["t_ms"])
            for r in _replay(scenario, seed=seed, trainee=trainee, duration_s=duration_s)
            if wanted is None or topics.channel_of(r["topic"]) in wanted]


class LabClient:
    def __init__(self, host: str | None = None, port: int | None = None, username: str | None = None,
                 password: str | None = None, topic_prefix: str | None = None) -> None:
        env = _env
        self.host = host or env("MQTT_HOST", "127.0.0.1")
        self.port = int(port or env("MQTT_PORT", "18830"))
        self.username = username if username is not None else env("MQTT_USERNAME", "")
        self.password = password if password is not None else env("MQTT_PASSWORD", "")
        self.prefix = (topic_prefix or env("MQTT_TOPIC_PREFIX", "") or f"{topics.PREFIX}/{self.username}").rstrip("/")
        self._client = make_client(f"nia-nb-{self.username}-{os.getpid()}-{next(_ids)}", self.username, self.password)
        self._client.on_message = self._on_message
        self._queue: queue.Queue = queue.Queue()
        self._acks: dict[str, queue.Queue] = {}
        self._lock = threading.Lock()
        self.connected = False
        self._ack_subscribed = False

    def connect(self, timeout: float = 10.0) -> "LabClient":
        connect(self._client, self.host, self.port, timeout)
        self.connected = True
        return self

    def __enter__(self) -> "LabClient":
        return self if self.connected else self.connect()

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        if self.connected:
            self._client.disconnect()
            self._client.loop_stop()
            self.connected = False

    def _on_message(self, _client, _userdata, message) -> None:
        try:
            payload = json.loads(message.payload) if message.payload else {}
        except ValueError:
            payload = {"raw": message.payload.decode("utf-8", "replace")}
        if message.topic.endswith("/ack"):
            with self._lock:
                waiter = self._acks.get(message.topic)
            if waiter is not None:
                waiter.put(payload)
        self._queue.put((message.topic, payload, bool(message.retain), message.payload))

    def subscribe(self, topic_filter: str = "#") -> bool:
        """Subscribe under your prefix (relative filter) or to a full filter; False if the broker refused."""
        full = topic_filter if topic_filter.startswith(topics.PREFIX + "/") else f"{self.prefix}/{topic_filter}"
        return subscribe(self._client, full)

    def messages(self, seconds: float, raw: bool = False) -> list[Any]:
        """Everything received within `seconds` (rows, or (topic, bytes, retain) tuples when raw)."""
        deadline, out = time.monotonic() + seconds, []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                topic, payload, retain, data = self._queue.get(timeout=min(left, 0.2))
            except queue.Empty:
                continue
            out.append((topic, data, retain) if raw else flatten(topic, payload))
        return out

    def browse(self, seconds: float = 1.0) -> dict[str, Any]:
        """The namespace as a nested dict, from the retained messages (meta, state, counters, status)."""
        self.subscribe("#")
        tree: dict[str, Any] = {}
        for row in self.messages(seconds):
            node = tree
            for level in row["topic"][len(self.prefix) + 1:].split("/"):
                node = node.setdefault(level, {})
        return tree

    def collect(self, seconds: float, channels: Iterable[str] = ("telemetry",)) -> list[dict[str, Any]]:
        """Subscribe to the given channels of every machine and return the rows received in `seconds`."""
        for channel in channels:
            self.subscribe(f"+/+/+/+/{channel}")
        wanted = set(channels)
        return [row for row in self.messages(seconds) if row["channel"] in wanted]

    def command(self, machine_topic: str, verb: str, payload: dict[str, Any] | bytes | str | None = None,
                timeout: float = 10.0) -> dict[str, Any]:
        """Send a command to `site/area/line/machine` (relative) and wait for its ack {ok, reason, ...}.

        A dict payload gets an `id` (unless it has one) and the matching ack is returned; raw bytes/str are sent
        as they are (to see how the line answers malformed input) and the next ack on that topic is returned."""
        base = machine_topic if machine_topic.startswith(topics.PREFIX + "/") else f"{self.prefix}/{machine_topic}"
        topic = f"{base}/cmd/{verb}"
        if not self._ack_subscribed:
            if not subscribe(self._client, f"{self.prefix}/+/+/+/+/cmd/+/ack"):
                raise PermissionError(f"not allowed to read {self.prefix} acks")
            self._ack_subscribed = True
        ident = None
        if isinstance(payload, (bytes, str)):
            data: bytes | str = payload
        else:
            body = dict(payload or {})
            ident = body.setdefault("id", f"{self._client._client_id.decode()}-{next(_ids)}")
            data = json.dumps(body)
        waiter: queue.Queue = queue.Queue()
        with self._lock:
            self._acks[topic + "/ack"] = waiter
        try:
            self._client.publish(topic, data, qos=1)
            deadline = time.monotonic() + timeout
            while True:
                ack = waiter.get(timeout=max(0.01, deadline - time.monotonic()))
                if ack.get("id") == ident:
                    return ack
        except queue.Empty:
            raise TimeoutError(f"no ack on {topic}/ack within {timeout:.0f} s (is your line running?)") from None
        finally:
            with self._lock:
                self._acks.pop(topic + "/ack", None)


def connect_from_env(timeout: float = 10.0) -> LabClient:
    return LabClient().connect(timeout)
