"""PackML (ISA-TR88.00.02) state machine: states, commands, unit modes and stop reason codes.

Acting states (…ing) complete after `transition_ticks` simulated seconds ("state complete"); wait states change
only on a command or, for Suspended/Held/Aborted, when the simulated cause ends.
"""
from __future__ import annotations

STATE_CODES = {
    "Undefined": 0, "Clearing": 1, "Stopped": 2, "Starting": 3, "Idle": 4, "Suspended": 5, "Execute": 6,
    "Stopping": 7, "Aborting": 8, "Aborted": 9, "Holding": 10, "Held": 11, "Unholding": 12, "Suspending": 13,
    "Unsuspending": 14, "Resetting": 15, "Completing": 16, "Complete": 17,
}
MODES = {"production": 1, "maintenance": 2, "manual": 3}

# acting state -> wait state reached when the acting state completes
STATE_COMPLETE = {
    "Clearing": "Stopped", "Starting": "Execute", "Stopping": "Stopped", "Aborting": "Aborted",
    "Holding": "Held", "Unholding": "Execute", "Suspending": "Suspended", "Unsuspending": "Execute",
    "Resetting": "Idle", "Completing": "Complete",
}
ACTING = frozenset(STATE_COMPLETE)

_STOPPABLE = frozenset(STATE_CODES) - {"Undefined", "Stopped", "Stopping", "Aborting", "Aborted", "Clearing"}
_ABORTABLE = frozenset(STATE_CODES) - {"Undefined", "Aborting", "Aborted"}

# command -> (states it is legal in, target state)
COMMANDS: dict[str, tuple[frozenset[str], str]] = {
    "start": (frozenset({"Idle"}), "Starting"),
    "reset": (frozenset({"Complete", "Stopped"}), "Resetting"),
    "hold": (frozenset({"Execute", "Suspended", "Suspending", "Unsuspending"}), "Holding"),
    "unhold": (frozenset({"Held"}), "Unholding"),
    "suspend": (frozenset({"Execute"}), "Suspending"),
    "unsuspend": (frozenset({"Suspended"}), "Unsuspending"),
    "stop": (_STOPPABLE, "Stopping"),
    "abort": (_ABORTABLE, "Aborting"),
    "clear": (frozenset({"Aborted"}), "Clearing"),
}
# Unit mode may only change where the machine is at rest (PackML: mode changes in wait states).
MODE_CHANGE_STATES = frozenset({"Idle", "Stopped", "Aborted", "Complete"})

REASONS = {
    0: "none",
    101: "planned changeover", 102: "planned maintenance",
    201: "mechanical breakdown", 202: "electrical fault", 203: "tool breakage", 204: "bearing failure",
    205: "hydraulic pressure loss",
    301: "material jam", 302: "sensor misread", 303: "part misfeed",
    401: "starved (upstream buffer empty)", 402: "blocked (downstream buffer full)",
    501: "operator stop", 502: "operator hold", 503: "operator abort", 504: "operator suspend",
}
REASON_STARVED, REASON_BLOCKED = 401, 402
OPERATOR_REASON = {"stop": 501, "hold": 502, "abort": 503, "suspend": 504}


def check_command(state: str, verb: str) -> str | None:
    """Return the target state, or None when `verb` is illegal in `state`."""
    legal, target = COMMANDS[verb]
    return target if state in legal else None


def reason_text(code: int) -> str:
    return REASONS.get(code, "unknown")
