"""One work centre: PackML state, part flow through its buffers, counters, noisy sensors and energy.

Everything advances in whole simulated seconds (`tick`). Random numbers come from the machine's own seeded
streams, drawn in a fixed pattern per tick, so the result depends only on simulated time and inputs.
"""
from __future__ import annotations

import math
from typing import Any

from . import packml
from .model import MachineSpec
from .rng import NormalStream, UniformStream

RUNNING_POWER = frozenset({"Execute", "Starting", "Unholding", "Unsuspending", "Completing"})
STANDBY = frozenset({"Stopped", "Stopping", "Aborted", "Aborting", "Clearing"})
AUTO_SUSPEND = frozenset({packml.REASON_STARVED, packml.REASON_BLOCKED})


def _kind(name: str) -> str:
    if name.startswith("temperature"):
        return "temperature"
    if name.startswith("vibration"):
        return "vibration"
    return "current" if "current" in name else "other"


class Buffer:
    """Between two machines; `None` capacity means the raw-material source or the finished-goods sink."""

    __slots__ = ("capacity", "level")

    def __init__(self, capacity: int | None, level: int = 0) -> None:
        self.capacity, self.level = capacity, level

    def take(self) -> bool:
        if self.capacity is None:
            return True
        if self.level > 0:
            self.level -= 1
            return True
        return False

    def put(self) -> bool:
        if self.capacity is None:
            return True
        if self.level < self.capacity:
            self.level += 1
            return True
        return False


class Machine:
    def __init__(self, spec: MachineSpec, noise: NormalStream, uniform: UniformStream,
                 upstream: Buffer, downstream: Buffer) -> None:
        self.spec, self.name = spec, spec.name
        self.noise, self.uniform = noise, uniform
        self.upstream, self.downstream = upstream, downstream
        self.state, self.mode, self.reason = "Execute", "production", 0
        self.speed_pct = float(spec.speed_pct)
        self.ideal_ms = spec.ideal_cycle_s * 1000.0
        self.progress = 0.0
        self.has_part = False
        self.finished_waiting = False  # a good part that found the downstream buffer full
        self.counters = {"good": 0, "bad": 0, "consumed": 0, "good_total": 0, "bad_total": 0, "consumed_total": 0}
        self.kwh = 0.0
        self.power_kw = spec.power_kw.get("run", 0.0)
        self.energy_acc = 0.0  # kWh since last energy message (for its mean power)
        self.values = {s.name: s.run for s in spec.sensors}  # physical state behind each sensor
        self._noise_sd = [(s.name, s.noise) for s in spec.sensors]
        self._dynamics = [(s.name, _kind(s.name), {"run": s.run, "idle": s.idle, "off": s.off},
                           1.0 - math.exp(-1.0 / s.tau_s)) for s in spec.sensors]
        self.last_reading: dict[str, float | None] = {}
        self.execute_ticks = 0
        self.ticks = 0
        self.dimension: float | None = None
        # fault effects, set by the line's fault scheduler
        self.wear = 0.0
        self.drift = 0.0
        self.sensor_faults: dict[str, tuple[str, float]] = {}  # sensor -> (kind, magnitude)
        self.auto_plan: list[tuple[int, str, int]] = []  # (tick, verb, reason) of the simulated operator
        self.state_changed = True
        self.events: list[dict[str, Any]] = []

    # -- PackML -----------------------------------------------------------------------------------------------
    def set_state(self, state: str, reason: int = 0) -> None:
        if state != self.state or reason != self.reason:
            self.state, self.reason = state, reason
            self.state_changed = True

    def command(self, verb: str, reason: int | None = None) -> str | None:
        """Apply a PackML command; returns an error text or None."""
        target = packml.check_command(self.state, verb)
        if target is None:
            return f"illegal transition: {verb} in state {self.state}"
        self.set_state(target, packml.OPERATOR_REASON.get(verb, 0) if reason is None else reason)
        if verb in ("stop", "abort", "reset", "clear"):
            self.auto_plan.clear()
        return None

    def change_mode(self, mode: str) -> str | None:
        if mode not in packml.MODES:
            return f"unknown mode {mode!r}; one of {', '.join(packml.MODES)}"
        if self.state not in packml.MODE_CHANGE_STATES:
            return f"mode change not allowed in state {self.state}"
        self.mode = mode
        self.state_changed = True
        return None

    def reset_counters(self) -> None:
        for key in ("good", "bad", "consumed"):
            self.counters[key] = 0

    # -- simulation ---------------------------------------------------------------------------------------------
    def complete_acting(self) -> None:
        if self.state in packml.ACTING:
            target = packml.STATE_COMPLETE[self.state]
            self.set_state(target, 0 if target == "Execute" else self.reason)

    def run_plan(self, tick: int) -> None:
        while self.auto_plan and self.auto_plan[0][0] <= tick:
            _, verb, reason = self.auto_plan.pop(0)
            if packml.check_command(self.state, verb) is not None:
                self.set_state(packml.COMMANDS[verb][1], reason)

    def produce(self) -> None:
        """One second of production in Execute: take a part, progress the cycle, release the part."""
        counters = self.counters
        if self.state == "Suspended" and self.reason in AUTO_SUSPEND:
            if self.reason == packml.REASON_BLOCKED and self.downstream.put():
                self.finished_waiting = False
                self.set_state("Unsuspending", packml.REASON_BLOCKED)
            elif self.reason == packml.REASON_STARVED and self.upstream.level > 0:
                self.set_state("Unsuspending", packml.REASON_STARVED)
            return
        if self.state != "Execute" or self.mode != "production":
            return
        self.execute_ticks += 1
        if not self.has_part:
            if not self.upstream.take():
                self.set_state("Suspending", packml.REASON_STARVED)
                return
            self.has_part = True
            counters["consumed"] += 1
            counters["consumed_total"] += 1
        self.progress += 10.0 * self.speed_pct
        if self.progress < self.ideal_ms - 1e-6:
            return
        self.progress -= self.ideal_ms
        self.has_part = False
        if self._part_is_bad():
            counters["bad"] += 1
            counters["bad_total"] += 1
        else:
            counters["good"] += 1
            counters["good_total"] += 1
            if not self.downstream.put():
                self.finished_waiting = True
                self.set_state("Suspending", packml.REASON_BLOCKED)
                return
        if self.upstream.take():
            self.has_part = True
            counters["consumed"] += 1
            counters["consumed_total"] += 1

    def _part_is_bad(self) -> bool:
        spec = self.spec
        draw = self.uniform.next()
        if spec.dimension:
            dim = spec.dimension
            self.dimension = dim["target"] + self.drift + dim["sd"] * (1 + 2 * self.wear) * self.noise.next()
            if abs(self.dimension - dim["target"]) > dim["tolerance"]:
                return True
        if spec.every_nth_bad:
            return (self.counters["good_total"] + self.counters["bad_total"] + 1) % spec.every_nth_bad == 0
        return draw < spec.defect_rate

    def physics(self) -> None:
        """Advance the physical quantities one second and the kWh counter."""
        state = self.state
        level = "run" if state in RUNNING_POWER and self.mode == "production" else (
            "off" if state in STANDBY else "idle")
        load = 0.6 + 0.004 * self.speed_pct
        wear = self.wear
        wear_factor = 1.0 + 4.0 * wear * wear
        values = self.values
        for name, kind, targets, alpha in self._dynamics:
            target = targets[level]
            if level == "run" and kind != "temperature":
                target *= load
            if kind == "vibration":
                target *= wear_factor
            elif kind == "current":
                target *= 1.0 + 0.25 * wear
            value = values[name]
            values[name] = value + (target - value) * alpha
        powers = self.spec.power_kw
        if level == "run":
            kw = powers.get("run", 0.0) * load * (1.0 + 0.15 * wear) * (1.0 + 0.02 * self.noise.next())
        else:
            kw = powers.get("idle" if level == "idle" else "standby", 0.0) * (1.0 + 0.01 * self.noise.next())
        self.power_kw = kw
        self.kwh += kw / 3600.0
        self.energy_acc += kw / 3600.0
        self.ticks += 1

    def read_sensors(self) -> dict[str, float | None]:
        """One noisy reading per sensor, with any injected sensor fault applied."""
        values, draw = self.values, self.noise.next
        readings: dict[str, float | None] = {name: round(values[name] + sd * draw(), 3) for name, sd in self._noise_sd}
        if self.sensor_faults:
            for name, (kind, magnitude) in self.sensor_faults.items():
                if kind == "sensor_stuck":
                    readings[name] = self.last_reading.get(name, readings[name])
                elif kind == "sensor_dropout":
                    readings[name] = None
                elif kind == "sensor_spike" and readings[name] is not None:
                    readings[name] = round(readings[name] + magnitude, 3)
        self.last_reading = readings
        return readings
