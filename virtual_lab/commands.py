"""Commands on .../<machine>/cmd/<verb>: validated, applied at a tick boundary, always answered with an ack.

Anything wrong (malformed JSON, unknown verb or machine, illegal PackML transition, out-of-range setpoint) gives
{ok: false, reason}; the line keeps running either way.
"""
from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from . import packml, topics

if TYPE_CHECKING:
    from .engine import Line

SETPOINTS = {"speed_pct": (10.0, 120.0)}
MAX_PAYLOAD = 4096


def execute(line: Line, topic: str, raw: bytes) -> tuple[bool, str | None, str | None, Any]:
    """Returns (ok, reason, verb, id); verb None means the topic was not a command topic of this line at all."""
    if not topic.startswith(line.base + "/"):
        return False, None, None, None
    parts = topic[len(line.base) + 1:].split("/")
    if len(parts) != 3 or parts[1] != "cmd":
        return False, None, None, None
    machine_name, _, verb = parts
    if len(raw) > MAX_PAYLOAD:
        return False, f"payload too large (max {MAX_PAYLOAD} bytes)", verb, None
    try:
        payload = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError) as error:
        return False, f"malformed JSON: {error}", verb, None
    if not isinstance(payload, dict):
        return False, "payload must be a JSON object", verb, None
    ident = payload.get("id")
    if not isinstance(ident, (str, int)) or isinstance(ident, bool):
        ident = None
    machine = line.by_name.get(machine_name)
    if machine is None:
        return False, f"unknown machine {machine_name!r}", verb, ident
    if verb not in topics.VERBS:
        return False, f"unknown verb {verb!r}; one of {', '.join(topics.VERBS)}", verb, ident
    if verb == "mode":
        mode = payload.get("mode")
        error = machine.change_mode(mode) if isinstance(mode, str) else "field 'mode' (string) is required"
        return error is None, error, verb, ident
    if verb == "setpoint":
        return (*_setpoint(machine, payload), verb, ident)
    error = machine.command(verb)
    if error is None and verb == "reset":
        machine.reset_counters()
    return error is None, error, verb, ident


def _setpoint(machine, payload: dict[str, Any]) -> tuple[bool, str | None]:
    name, value = payload.get("name"), payload.get("value")
    if name not in SETPOINTS:
        return False, f"unknown setpoint {name!r}; one of {', '.join(SETPOINTS)}"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return False, "field 'value' must be a number"
    low, high = SETPOINTS[name]
    if not low <= value <= high:
        return False, f"{name} out of range [{low:g}, {high:g}]: {value:g}"
    machine.speed_pct = float(value)
    machine.state_changed = True
    return True, None


__all__ = ["execute", "SETPOINTS", "packml"]
