"""Named scenario files (YAML, one per scenario in this folder): line options, random fault rates, scheduled
faults and, for known-answer scenarios, the answer. `list_scenarios()` / `load_scenario(name)`."""
from __future__ import annotations

import functools
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from ..model import MACHINE_OVERRIDABLE, DEFAULT_MACHINES

HERE = Path(__file__).resolve().parent
FAULT_KINDS = {"breakdown", "micro_stop", "quality_drift", "wear", "sensor_stuck", "sensor_dropout", "sensor_spike",
               "connection_loss"}
_TOP = {"title", "description", "duration_s", "start", "telemetry_period_s", "counters_period_s", "energy_period_s",
        "line", "random", "faults", "known_answer", "tags"}
_RANDOM = {"micro_stops_per_h", "micro_stop_s", "breakdowns_per_h", "breakdown_s", "breakdown_reasons",
           "micro_stop_reasons"}
MACHINE_NAMES = [m.name for m in DEFAULT_MACHINES]


class ScenarioError(ValueError):
    """A scenario name or file is wrong; the message says which field."""


def _dirs() -> list[Path]:
    extra = os.environ.get("NIA_SIM_SCENARIO_DIR", "")
    return [Path(p) for p in extra.split(os.pathsep) if p] + [HERE]


def list_scenarios() -> list[dict[str, Any]]:
    """Every scenario: name, title, description, duration_s, tags, known_answer (or None)."""
    found: dict[str, dict[str, Any]] = {}
    for folder in _dirs():
        for path in sorted(folder.glob("*.yaml")):
            if path.stem not in found:
                data = load_scenario(path.stem)
                found[path.stem] = {"name": path.stem, "title": data["title"], "description": data["description"],
                                    "duration_s": data["duration_s"], "tags": data["tags"],
                                    "known_answer": data["known_answer"]}
    return [found[k] for k in sorted(found)]


def load_scenario(name: str) -> dict[str, Any]:
    return _load(name)


@functools.lru_cache(maxsize=64)
def _load_cached(path: str, mtime: float) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    return validate(Path(path).stem, raw)


def _load(name: str) -> dict[str, Any]:
    if not isinstance(name, str) or not name.replace("-", "").replace("_", "").isalnum():
        raise ScenarioError(f"invalid scenario name {name!r}")
    for folder in _dirs():
        path = folder / f"{name}.yaml"
        if path.is_file():
            import copy

            return copy.deepcopy(_load_cached(str(path), path.stat().st_mtime))
    raise ScenarioError(f"unknown scenario {name!r}; known: {', '.join(s.stem for d in _dirs() for s in d.glob('*.yaml'))}")


def _num(where: str, value: Any, low: float = 0.0, high: float = float("inf")) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ScenarioError(f"{where} must be a number in [{low}, {high}], got {value!r}")
    return float(value)


def _time_or_range(where: str, value: Any) -> Any:
    """A time is a number, or [low, high] drawn per trainee from the seeded scenario stream."""
    if isinstance(value, list):
        if len(value) != 2:
            raise ScenarioError(f"{where} range must be [low, high]")
        low, high = (_num(where, v) for v in value)
        if high < low:
            raise ScenarioError(f"{where} range has high < low")
        return [low, high]
    return _num(where, value)


def validate(name: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ScenarioError(f"scenario {name}: top level must be a mapping")
    unknown = set(raw) - _TOP
    if unknown:
        raise ScenarioError(f"scenario {name}: unknown field(s) {sorted(unknown)}")
    data = {"name": name, "title": str(raw.get("title", name)), "description": str(raw.get("description", "")),
            "tags": list(raw.get("tags") or []),
            "duration_s": _num(f"{name}.duration_s", raw.get("duration_s", 28800), 1, 7 * 86400)}
    start = raw.get("start", "2026-01-05T06:00:00Z")
    try:
        parsed = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
    except ValueError:
        raise ScenarioError(f"{name}.start must be an ISO 8601 time, got {start!r}") from None
    data["start_ms"] = int(parsed.astimezone(timezone.utc).timestamp() * 1000)
    for key, default in (("telemetry_period_s", 1), ("counters_period_s", 10), ("energy_period_s", 10)):
        value = raw.get(key, default)
        if not isinstance(value, int) or not 1 <= value <= 3600:
            raise ScenarioError(f"{name}.{key} must be a whole number of seconds in [1, 3600]")
        data[key] = value
    line = raw.get("line") or {}
    for mname, over in (line.get("machines") or {}).items():
        if mname not in MACHINE_NAMES:
            raise ScenarioError(f"{name}.line.machines: unknown machine {mname!r}")
        bad = set(over or {}) - MACHINE_OVERRIDABLE
        if bad:
            raise ScenarioError(f"{name}.line.machines.{mname}: unknown field(s) {sorted(bad)}")
        if "speed_pct" in over:
            _num(f"{name}.line.machines.{mname}.speed_pct", over["speed_pct"], 10, 150)
    data["line"] = line
    random_ = raw.get("random") or {}
    for key, conf in random_.items():
        if key != "default" and key not in MACHINE_NAMES:
            raise ScenarioError(f"{name}.random: unknown machine {key!r}")
        bad = set(conf or {}) - _RANDOM
        if bad:
            raise ScenarioError(f"{name}.random.{key}: unknown field(s) {sorted(bad)}")
    data["random"] = random_
    faults = []
    for i, fault in enumerate(raw.get("faults") or []):
        where = f"{name}.faults[{i}]"
        if not isinstance(fault, dict) or fault.get("kind") not in FAULT_KINDS:
            raise ScenarioError(f"{where}.kind must be one of {sorted(FAULT_KINDS)}")
        if fault["kind"] != "connection_loss" and fault.get("machine") not in MACHINE_NAMES:
            raise ScenarioError(f"{where}.machine must be one of {MACHINE_NAMES}")
        fault = dict(fault)
        fault["at_s"] = _time_or_range(f"{where}.at_s", fault.get("at_s"))
        for key in ("duration_s", "failure_after_s", "repair_s"):
            if key in fault:
                fault[key] = _time_or_range(f"{where}.{key}", fault[key])
        if fault["kind"] == "breakdown" and _min(fault.get("duration_s", 600)) < 6:
            raise ScenarioError(f"{where}.duration_s: a breakdown lasts at least 6 s (PackML recovery)")
        if fault["kind"] == "micro_stop" and _min(fault.get("duration_s", 60)) < 3:
            raise ScenarioError(f"{where}.duration_s: a micro-stop lasts at least 3 s")
        if fault["kind"].startswith("sensor_") and not fault.get("sensor"):
            raise ScenarioError(f"{where}.sensor is required")
        faults.append(fault)
    data["faults"] = faults
    data["known_answer"] = raw.get("known_answer")
    return data


def _min(value: Any) -> float:
    return value[0] if isinstance(value, list) else value
