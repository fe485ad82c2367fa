"""The line engine: steps one simulated second at a time and emits records {topic, payload, t_ms}.

The same engine feeds the in-memory bus (replay, grading, tests) and the MQTT transport (live lines), so what a
trainee receives live is exactly what `virtual_lab.replay()` returns for the same scenario, seed and commands.
"""
from __future__ import annotations

import collections
import json
import math
from typing import Any

from . import faults as F
from . import packml, topics
from .machine import Buffer, Machine
from .model import ENTERPRISE, build_line
from .rng import NormalStream, UniformStream, generator
from .scenarios import load_scenario

OFFLINE = {"online": False}


class Line:
    def __init__(self, scenario: str, *, seed: int, trainee: str, prefix: str = topics.PREFIX) -> None:
        if not topics.valid_name(trainee):
            raise ValueError(f"invalid trainee name {trainee!r}: lower-case letters, digits, '-' or '_'")
        self.scenario = load_scenario(scenario)
        self.name, self.seed, self.trainee = scenario, int(seed), trainee
        sc = self.scenario
        self.spec = build_line(sc["line"])
        self.base = topics.line_topic(trainee, self.spec.site, self.spec.area, self.spec.line, prefix)
        self.status_topic = topics.status_topic(self.base)
        self.start_ms = sc["start_ms"]
        self.periods = (sc["telemetry_period_s"], sc["counters_period_s"], sc["energy_period_s"])
        specs = self.spec.machines
        buffers = [Buffer(None)] + [Buffer(self.spec.buffer_capacity, self.spec.buffer_initial)
                                    for _ in specs[1:]] + [Buffer(None)]
        self.machines: list[Machine] = []
        self.random_faults: list[F.RandomFaults] = []
        for i, spec in enumerate(specs):
            gen = lambda stream: generator(scenario, self.seed, trainee, spec.name, stream)  # noqa: E731
            self.machines.append(Machine(spec, NormalStream(gen("noise")), UniformStream(gen("quality")),
                                         buffers[i], buffers[i + 1]))
            conf = {**(sc["random"].get("default") or {}), **(sc["random"].get(spec.name) or {})}
            self.random_faults.append(F.RandomFaults(conf, UniformStream(gen("faults"))))
        self.by_name = {m.name: m for m in self.machines}
        self.topic_of = {m.name: f"{self.base}/{m.name}" for m in self.machines}
        schedule_stream = UniformStream(generator(scenario, self.seed, trainee, "_line", "schedule"))
        self.pending: list[tuple[int, int, dict[str, Any]]] = []
        for i, fault in enumerate(sc["faults"]):
            fault = dict(fault)
            fault["at_s"] = F.resolve(fault["at_s"], schedule_stream)
            for key in ("duration_s", "failure_after_s", "repair_s"):
                if key in fault:
                    fault[key] = F.resolve(fault[key], schedule_stream)
            if fault["kind"].startswith("sensor_"):
                names = [s.name for s in self.by_name[fault["machine"]].spec.sensors]
                if fault["sensor"] not in names:
                    raise ValueError(f"scenario {scenario}: machine {fault['machine']} has no sensor "
                                     f"{fault['sensor']!r} ({', '.join(names)})")
            self.pending.append((fault["at_s"], i, fault))
        self.pending.sort(key=lambda p: (p[0], p[1]))
        self.active: list[dict[str, Any]] = []
        self.ground_truth: list[dict[str, Any]] = []
        self.commands: collections.deque[tuple[str, bytes]] = collections.deque()
        self.command_log: list[dict[str, Any]] = []
        self.tick_no = 0
        self.seq = 0
        self.online = True
        self.out: list[dict[str, Any]] = []

    # -- emission ----------------------------------------------------------------------------------------------
    def _emit(self, topic: str, payload: dict[str, Any]) -> None:
        if self.online:
            self.out.append({"topic": topic, "payload": payload, "t_ms": self.tick_no * 1000})

    def _header(self) -> dict[str, Any]:
        self.seq += 1
        return {"ts_ms": self.start_ms + self.tick_no * 1000, "seq": self.seq}

    def _state(self, m: Machine) -> None:
        self._emit(f"{self.topic_of[m.name]}/state", {
            **self._header(), "state": m.state, "state_code": packml.STATE_CODES[m.state], "mode": m.mode,
            "mode_code": packml.MODES[m.mode], "reason_code": m.reason, "reason": packml.reason_text(m.reason),
            "speed_pct": round(m.speed_pct, 3)})
        m.state_changed = False

    def _counters(self, m: Machine) -> None:
        self._emit(f"{self.topic_of[m.name]}/counters", {
            **self._header(), **m.counters, "wip_in": m.upstream.level if m.upstream.capacity else None})

    def _meta(self, i: int, m: Machine) -> None:
        spec = m.spec
        self._emit(f"{self.topic_of[m.name]}/meta", {
            **self._header(), "schema": "nia/v1", "enterprise": ENTERPRISE, "site": self.spec.site,
            "area": self.spec.area, "line": self.spec.line, "machine": m.name, "kind": spec.kind,
            "description": spec.description, "position": i + 1,
            "upstream": self.machines[i - 1].name if i else None,
            "downstream": self.machines[i + 1].name if i + 1 < len(self.machines) else None,
            "buffer_in_capacity": m.upstream.capacity, "ideal_cycle_s": spec.ideal_cycle_s,
            "sensors": [{"name": s.name, "unit": s.unit} for s in spec.sensors],
            "commands": list(topics.VERBS), "scenario": self.name})

    def _birth(self) -> None:
        self._emit(self.status_topic, {**self._header(), "online": True})
        for i, m in enumerate(self.machines):
            self._meta(i, m)
        for m in self.machines:
            self._state(m)
            self._counters(m)

    def start(self) -> list[dict[str, Any]]:
        """Records published when the line comes up (t=0): status, then retained meta, state and counters."""
        self._birth()
        return self._drain()

    def _drain(self) -> list[dict[str, Any]]:
        out, self.out = self.out, []
        return out

    # -- commands ----------------------------------------------------------------------------------------------
    def submit(self, topic: str, payload: bytes) -> None:
        """Queue a command (thread-safe append); it is applied at the start of the next simulated second."""
        self.commands.append((topic, bytes(payload)))

    def _apply_command(self, topic: str, raw: bytes) -> None:
        from .commands import execute

        self.command_log.append({"t_ms": self.tick_no * 1000, "topic": topic, "payload": raw.decode("utf-8", "replace")})
        ok, reason, verb, ident = execute(self, topic, raw)
        if verb is None:
            return
        ack = {**self._header(), "ok": ok, "reason": reason, "verb": verb}
        if ident is not None:
            ack["id"] = ident
        self._emit(topic + "/ack", ack)

    # -- simulation --------------------------------------------------------------------------------------------
    def step(self) -> list[dict[str, Any]]:
        """Advance one simulated second; returns the records published during it, in publish order."""
        self.tick_no += 1
        tick = self.tick_no
        for m in self.machines:
            m.complete_acting()
            m.run_plan(tick)
        while self.commands:
            self._apply_command(*self.commands.popleft())
        self._activate(tick)
        self._update_active(tick)
        tp, cp, ep = self.periods
        for index, m in enumerate(self.machines):
            fault = self.random_faults[index].due(tick, m)
            if fault is not None:
                end = F.start_stop(m, fault, tick)
                self.ground_truth.append(F.gt_entry(fault, m.name, tick, end))
            m.produce()
            m.physics()
        for m in self.machines:
            base = self.topic_of[m.name]
            if m.state_changed and self.online:
                self._state(m)
            if m.events:
                for event in m.events:
                    self._emit(f"{base}/events", {**self._header(), **event}) if self.online else None
                m.events.clear()
            if tick % tp == 0:
                readings = m.read_sensors()
                if self.online:
                    payload = {**self._header(), **readings, "power_kw": round(m.power_kw, 3)}
                    if m.dimension is not None:
                        payload["part_dimension_mm"] = round(m.dimension, 4)
                        m.dimension = None
                    self._emit(f"{base}/telemetry", payload)
            if tick % cp == 0 and self.online:
                self._counters(m)
            if tick % ep == 0:
                if self.online:
                    self._emit(f"{base}/energy", {**self._header(), "power_kw": round(m.energy_acc * 3600.0 / ep, 3),
                                                  "energy_kwh": round(m.kwh, 4)})
                m.energy_acc = 0.0
        return self._drain()

    def _activate(self, tick: int) -> None:
        still: list[tuple[int, int, dict[str, Any]]] = []
        for at, index, fault in self.pending:
            if at > tick or not self._start_fault(fault, tick):
                still.append((at, index, fault))
        self.pending = still

    def _start_fault(self, fault: dict[str, Any], tick: int) -> bool:
        kind = fault["kind"]
        machine = self.by_name.get(fault.get("machine", ""))
        if kind in ("breakdown", "micro_stop"):
            if machine.state != "Execute":
                return False  # a stop needs a running machine; it happens as soon as the machine runs again
            fault.setdefault("duration_s", 600 if kind == "breakdown" else 60)
            end = F.start_stop(machine, fault, tick)
            self.ground_truth.append(F.gt_entry(fault, machine.name, tick, end))
            return True
        duration = fault.get("duration_s")
        if kind == "sensor_spike" and duration is None:
            duration = self.periods[0]
        end = None if duration is None else tick + int(duration)
        entry = F.gt_entry(fault, machine.name if machine else None, tick, end)
        if kind == "wear":
            entry["end_ms"] = None
        self.ground_truth.append(entry)
        self.active.append({"fault": fault, "machine": machine, "start": tick, "end": end, "gt": entry})
        if kind.startswith("sensor_"):
            machine.sensor_faults[fault["sensor"]] = (kind, float(fault.get("magnitude", 0.0)))
        elif kind == "connection_loss":
            if self.online:
                self.out.append({"topic": self.status_topic, "payload": dict(OFFLINE), "t_ms": tick * 1000})
            self.online = False
        return True

    def _update_active(self, tick: int) -> None:
        keep = []
        for effect in self.active:
            fault, machine, kind = effect["fault"], effect["machine"], effect["fault"]["kind"]
            if effect["end"] is not None and tick >= effect["end"]:
                self._end_effect(effect)
                continue
            if kind == "quality_drift":
                ramp = float(fault.get("ramp_s", 0) or 0)
                share = 1.0 if ramp <= 0 else min(1.0, (tick - effect["start"]) / ramp)
                machine.drift = float(fault.get("shift", 0.05)) * share
            elif kind == "wear":
                life = float(fault.get("failure_after_s", 7200))
                machine.wear = min(1.0, (tick - effect["start"]) / life)
                if machine.wear >= 1.0 and machine.state == "Execute":
                    failure = {"kind": "breakdown", "duration_s": int(fault.get("repair_s", 1800)),
                               "reason_code": int(fault.get("reason_code", 204)), "source": "wear"}
                    end = F.start_stop(machine, failure, tick)
                    self.ground_truth.append(F.gt_entry(failure, machine.name, tick, end))
                    effect["gt"]["end_ms"] = tick * 1000
                    machine.wear = 0.0
                    continue
            keep.append(effect)
        self.active = keep

    def _end_effect(self, effect: dict[str, Any]) -> None:
        fault, machine, kind = effect["fault"], effect["machine"], effect["fault"]["kind"]
        if kind == "quality_drift":
            machine.drift = 0.0
        elif kind.startswith("sensor_"):
            machine.sensor_faults.pop(fault["sensor"], None)
        elif kind == "connection_loss":
            self.online = True
            self._birth()

    # -- results -----------------------------------------------------------------------------------------------
    def kpis(self) -> dict[str, dict[str, float]]:
        """OEE figures per machine over the simulated time so far (planned time = elapsed time)."""
        result = {}
        for m in self.machines:
            total = m.counters["good_total"] + m.counters["bad_total"]
            planned, run = float(self.tick_no), float(m.execute_ticks)
            a = run / planned if planned else 0.0
            p = (m.spec.ideal_cycle_s * total / run) if run else 0.0
            q = (m.counters["good_total"] / total) if total else 0.0
            result[m.name] = {"planned_s": planned, "run_s": run, "total": total, "good": m.counters["good_total"],
                              "availability": a, "performance": p, "quality": q, "oee": a * p * q,
                              "energy_kwh": m.kwh}
        return result


def run(scenario: str, *, seed: int, trainee: str, duration_s: float | None = None,
        commands: list[dict[str, Any]] | None = None, prefix: str = topics.PREFIX) -> Line:
    """Run a line offline to the end; `commands` ({t_ms, topic, payload}) are re-applied at their times."""
    line = Line(scenario, seed=seed, trainee=trainee, prefix=prefix)
    ticks = int(math.floor(line.scenario["duration_s"] if duration_s is None else duration_s))
    queued = sorted(commands or [], key=lambda c: c["t_ms"])
    records = line.start()
    ci = 0
    for _ in range(ticks):
        while ci < len(queued) and queued[ci]["t_ms"] <= (line.tick_no + 1) * 1000:
            payload = queued[ci]["payload"]
            line.submit(queued[ci]["topic"], payload.encode() if isinstance(payload, str) else
                        payload if isinstance(payload, bytes) else json.dumps(payload).encode())
            ci += 1
        records.extend(line.step())
    line.records = records  # type: ignore[attr-defined]
    return line
