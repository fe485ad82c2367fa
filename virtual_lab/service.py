"""Multi-tenant simulator service: one process, many lines (one per trainee), one scheduler thread.

Each line steps one simulated second every 1/speed wall seconds; ticks are never skipped (simulated time is what
the data depends on), so a late line catches up and the lag is reported. Control: the Python API below, or the
HTTP control channel (control.py) used by the LMS through `ServiceClient`.
"""
from __future__ import annotations

import heapq
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from . import topics
from .engine import Line
from .scenarios import ScenarioError, load_scenario

__all__ = ["LabService", "ServiceClient", "LineError"]


class LineError(ValueError):
    """Bad request to the service (unknown scenario, invalid trainee, no such line)."""


@dataclass
class RunningLine:
    line: Line
    transport: Any
    speed: float
    duration_s: float | None
    started_wall: float = field(default_factory=time.time)
    due: float = 0.0
    max_lag_s: float = 0.0
    stopped: bool = False

    def info(self) -> dict[str, Any]:
        line = self.line
        return {"trainee": line.trainee, "scenario": line.name, "seed": line.seed, "speed": self.speed,
                "t_ms": line.tick_no * 1000, "topic_root": line.base, "status_topic": line.status_topic,
                "machines": [m.name for m in line.machines], "lag_s": round(max(0.0, time.monotonic() - self.due), 3),
                "max_lag_s": round(self.max_lag_s, 3), "duration_s": self.duration_s}


class LabService:
    """`transport_factory(line) -> object with start()/publish(records)/stop()`; default is MQTT via the broker."""

    def __init__(self, settings=None, *, transport_factory=None, default_speed: float = 1.0) -> None:
        from . import settings as lab_settings

        self.settings = settings or lab_settings.load()
        self.default_speed = default_speed
        self._factory = transport_factory or self._mqtt_transport
        self._lines: dict[str, RunningLine] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._counter = 0
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._running = False
        self.published = 0
        self._shared = None

    def _mqtt_transport(self, line: Line):
        import os

        from .broker import service_credentials
        from .transport import MqttLineTransport, SharedPublisher

        creds = service_credentials(self.settings)
        with self._lock:
            if self._shared is None:
                self._shared = SharedPublisher(creds, f"nia-sim-data-{os.getpid()}-{id(self)}")
        return MqttLineTransport(line, creds, client_id=f"nia-sim-{line.trainee}", shared=self._shared)

    # -- API -------------------------------------------------------------------------------------------------
    def start(self) -> "LabService":
        self._running = True
        self._thread = threading.Thread(target=self._loop, name="lab-scheduler", daemon=True)
        self._thread.start()
        return self

    def start_line(self, trainee: str, scenario: str, seed: int, *, speed: float | None = None,
                   duration_s: float | None = None) -> dict[str, Any]:
        """Start (or keep, when identical) the trainee's line; a different scenario/seed replaces it."""
        if not topics.valid_name(str(trainee)):
            raise LineError(f"invalid trainee {trainee!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise LineError("seed must be an integer")
        speed = float(self.default_speed if speed is None else speed)
        if not 0.01 <= speed <= 10000:
            raise LineError("speed must be between 0.01 and 10000")
        try:
            load_scenario(scenario)
        except ScenarioError as error:
            raise LineError(str(error)) from None
        with self._lock:
            current = self._lines.get(trainee)
            if current and (current.line.name, current.line.seed) == (scenario, seed) and current.speed == speed:
                return current.info()
        if current:
            self.stop_line(trainee)
        line = Line(scenario, seed=seed, trainee=trainee)
        transport = self._factory(line)
        transport.start()
        running = RunningLine(line, transport, speed, duration_s)
        records = line.start()
        transport.publish(records)
        with self._wake:
            running.due = time.monotonic() + 1.0 / speed
            self._lines[trainee] = running
            self._push(running)
            self._wake.notify()
        self.published += len(records)
        return running.info()

    def stop_line(self, trainee: str) -> dict[str, Any]:
        with self._lock:
            running = self._lines.pop(trainee, None)
            if running is None:
                raise LineError(f"no line running for {trainee!r}")
            running.stopped = True
        running.transport.stop()
        return {**running.info(), "ground_truth": list(running.line.ground_truth)}

    def ground_truth(self, trainee: str) -> dict[str, Any]:
        """Faults injected so far plus the commands applied (with `commands`, replay() reproduces the session)."""
        with self._lock:
            running = self._lines.get(trainee)
            if running is None:
                raise LineError(f"no line running for {trainee!r}")
            line = running.line
            return {"trainee": trainee, "scenario": line.name, "seed": line.seed, "t_ms": line.tick_no * 1000,
                    "ground_truth": [dict(e) for e in line.ground_truth], "commands": list(line.command_log)}

    def lines(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.info() for r in self._lines.values()]

    def line_info(self, trainee: str) -> dict[str, Any]:
        with self._lock:
            if trainee not in self._lines:
                raise LineError(f"no line running for {trainee!r}")
            return self._lines[trainee].info()

    def close(self) -> None:
        self._running = False
        with self._wake:
            self._wake.notify()
        if self._thread:
            self._thread.join(5)
        for trainee in list(self._lines):
            try:
                self.stop_line(trainee)
            except LineError:
                pass
        if self._shared is not None:
            self._shared.close()
            self._shared = None

    # -- scheduler -------------------------------------------------------------------------------------------
    def _push(self, running: RunningLine) -> None:
        self._counter += 1
        heapq.heappush(self._heap, (running.due, self._counter, running.line.trainee))

    def _loop(self) -> None:
        while self._running:
            with self._wake:
                if not self._heap:
                    self._wake.wait(0.5)
                    continue
                due, _, trainee = self._heap[0]
                now = time.monotonic()
                if due > now:
                    self._wake.wait(min(due - now, 0.5))
                    continue
                heapq.heappop(self._heap)
                running = self._lines.get(trainee)
                if running is None or running.stopped or running.due != due:
                    continue
            self._tick(running, now)

    def _tick(self, running: RunningLine, now: float) -> None:
        running.max_lag_s = max(running.max_lag_s, now - running.due)
        records = running.line.step()
        try:
            running.transport.publish(records)
        except Exception:  # noqa: BLE001 - one line's transport trouble must not stop the others
            pass
        self.published += len(records)
        finished = running.duration_s is not None and running.line.tick_no >= running.duration_s
        with self._wake:
            if running.stopped:
                return
            if finished:
                self._lines.pop(running.line.trainee, None)
            else:
                running.due += 1.0 / running.speed
                self._push(running)
        if finished:
            running.transport.stop()

    def max_lag(self) -> float:
        with self._lock:
            return max((r.max_lag_s for r in self._lines.values()), default=0.0)


def __getattr__(name: str):
    if name == "ServiceClient":
        from .control import ServiceClient

        return ServiceClient
    raise AttributeError(name)
