"""JSON Schema (2020-12) per channel: `load(channel)` and `validate(record)`."""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from ..topics import channel_of

HERE = Path(__file__).resolve().parent
CHANNELS = ("status", "meta", "state", "counters", "telemetry", "energy", "events", "cmd", "ack")


@functools.lru_cache(maxsize=None)
def load(channel: str) -> dict[str, Any]:
    return json.loads((HERE / f"{channel}.json").read_text())


@functools.lru_cache(maxsize=None)
def _validator(channel: str):
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load(channel))


def validate(topic: str, payload: dict[str, Any]) -> None:
    """Raises jsonschema.ValidationError when the payload does not match its channel's schema."""
    _validator(channel_of(topic)).validate(payload)
