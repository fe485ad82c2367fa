"""Fault injection: scheduled faults from the scenario file plus seeded random micro-stops and breakdowns.

Every fault that actually happens is written to the ground-truth log with its simulated start and end, so graders
can score a trainee's detection against what really occurred (including faults the line never announces).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from . import packml
from .rng import UniformStream

if TYPE_CHECKING:
    from .machine import Machine

DEFAULT_REASON = {"breakdown": 201, "micro_stop": 301, "wear": 204}


def resolve(value: Any, stream: UniformStream) -> int:
    """A number, or [low, high] drawn (whole seconds) from the scenario's seeded stream."""
    if isinstance(value, list):
        return int(round(value[0] + stream.next() * (value[1] - value[0])))
    return int(round(value))


class RandomFaults:
    """Poisson micro-stops and breakdowns for one machine, timed on its own stream (independent of noise)."""

    def __init__(self, conf: dict[str, Any], stream: UniformStream) -> None:
        self.stream = stream
        self.micro_rate = float(conf.get("micro_stops_per_h", 0) or 0)
        self.micro_s = conf.get("micro_stop_s", [20, 120])
        self.micro_reasons = list(conf.get("micro_stop_reasons", [301, 302, 303]))
        self.break_rate = float(conf.get("breakdowns_per_h", 0) or 0)
        self.break_s = conf.get("breakdown_s", [300, 1800])
        self.break_reasons = list(conf.get("breakdown_reasons", [201, 202, 205]))
        self.next_micro = self._next(0, self.micro_rate)
        self.next_break = self._next(0, self.break_rate)

    def _next(self, now: int, rate: float) -> float:
        if rate <= 0:
            return math.inf
        return now + max(1, int(-math.log(1.0 - self.stream.next()) * 3600.0 / rate))

    def _pick(self, reasons: list[int]) -> int:
        return reasons[min(len(reasons) - 1, int(self.stream.next() * len(reasons)))]

    def due(self, tick: int, machine: Machine) -> dict[str, Any] | None:
        if machine.state != "Execute":
            return None
        if tick >= self.next_break:
            duration = max(6, resolve(self.break_s, self.stream) if isinstance(self.break_s, list) else int(self.break_s))
            fault = {"kind": "breakdown", "duration_s": duration, "reason_code": self._pick(self.break_reasons),
                     "source": "random"}
            self.next_break = self._next(tick + duration, self.break_rate)
            return fault
        if tick >= self.next_micro:
            duration = max(3, resolve(self.micro_s, self.stream) if isinstance(self.micro_s, list) else int(self.micro_s))
            fault = {"kind": "micro_stop", "duration_s": duration, "reason_code": self._pick(self.micro_reasons),
                     "source": "random"}
            self.next_micro = self._next(tick + duration, self.micro_rate)
            return fault
        return None


def start_stop(machine: Machine, fault: dict[str, Any], tick: int) -> int:
    """Breakdown or micro-stop: PackML path out of Execute and the simulated operator's way back. Returns end tick."""
    duration = int(fault["duration_s"])
    reason = int(fault.get("reason_code") or DEFAULT_REASON[fault["kind"]])
    fault["reason_code"] = reason
    if fault["kind"] == "micro_stop":
        machine.set_state("Holding", reason)
        machine.auto_plan = [(tick + duration - 1, "unhold", reason)]
    else:
        machine.set_state("Aborting", reason)
        machine.auto_plan = [(tick + duration - 5, "clear", reason), (tick + duration - 3, "reset", reason),
                             (tick + duration - 1, "start", reason)]
    machine.events.append({"kind": "alarm" if fault["kind"] == "breakdown" else "stop", "reason_code": reason,
                           "reason": packml.reason_text(reason)})
    return tick + duration


def gt_entry(fault: dict[str, Any], machine: str | None, tick: int, end: int | None) -> dict[str, Any]:
    entry = {"t_ms": tick * 1000, "end_ms": None if end is None else end * 1000, "machine": machine,
             "kind": fault["kind"]}
    for key in ("reason_code", "sensor", "shift", "ramp_s", "magnitude", "failure_after_s", "source"):
        if key in fault:
            entry[key] = fault[key]
    if "reason_code" in entry:
        entry["reason"] = packml.reason_text(entry["reason_code"])
    return entry
