"""ISA-95 equipment model of the default line: enterprise/site/area/line/machine with specs per machine.

Five work centres joined by four buffers, so blocking and starving happen: injection moulding -> CNC ->
assembly -> vision QC -> packaging. Figures are plausible for a small plastic-part cell, not one vendor's data.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

ENTERPRISE = "ni-academy"


@dataclass(frozen=True)
class SensorSpec:
    name: str
    unit: str
    run: float  # steady value in Execute
    idle: float  # steady value when powered but not producing
    off: float  # steady value when stopped/aborted (ambient)
    noise: float  # measurement noise, 1 sigma
    tau_s: float  # first-order time constant of the physical quantity


@dataclass
class MachineSpec:
    name: str
    kind: str
    description: str
    ideal_cycle_s: float
    speed_pct: float = 100.0
    defect_rate: float = 0.01
    power_kw: dict[str, float] = field(default_factory=dict)  # run / idle / standby
    sensors: list[SensorSpec] = field(default_factory=list)
    every_nth_bad: int = 0  # deterministic quality (known-answer scenarios); 0 = random
    dimension: dict[str, float] | None = None  # measured part dimension (SPC): target, sd, tolerance


def _s(name, unit, run, idle, off, noise, tau):
    return SensorSpec(name, unit, run, idle, off, noise, tau)


DEFAULT_MACHINES: list[MachineSpec] = [
    MachineSpec("moulder", "injection-moulding", "Injection moulding machine, 120 t clamp", 8.0, defect_rate=0.015,
                power_kw={"run": 18.0, "idle": 6.0, "standby": 1.5},
                sensors=[_s("temperature_c", "degC", 225.0, 205.0, 30.0, 0.8, 180.0),
                         _s("vibration_mm_s", "mm/s", 2.2, 0.6, 0.05, 0.15, 5.0),
                         _s("pressure_bar", "bar", 135.0, 40.0, 0.0, 2.5, 4.0)]),
    MachineSpec("cnc", "cnc-machining", "3-axis CNC machining centre (trimming, drilling)", 9.0, defect_rate=0.0,
                power_kw={"run": 11.0, "idle": 3.0, "standby": 0.8},
                sensors=[_s("temperature_c", "degC", 42.0, 33.0, 25.0, 0.3, 300.0),
                         _s("vibration_mm_s", "mm/s", 1.8, 0.4, 0.05, 0.12, 5.0),
                         _s("spindle_current_a", "A", 12.5, 2.0, 0.0, 0.35, 3.0)],
                dimension={"target": 25.0, "sd": 0.012, "tolerance": 0.05}),
    MachineSpec("assembly", "assembly-cell", "Pneumatic press-fit assembly cell", 9.0, defect_rate=0.008,
                power_kw={"run": 4.0, "idle": 1.5, "standby": 0.4},
                sensors=[_s("temperature_c", "degC", 31.0, 27.0, 24.0, 0.25, 240.0),
                         _s("vibration_mm_s", "mm/s", 1.1, 0.3, 0.05, 0.08, 5.0),
                         _s("pressure_bar", "bar", 6.2, 6.4, 0.0, 0.05, 6.0)]),
    MachineSpec("vision-qc", "vision-inspection", "Camera inspection station with reject gate", 7.0,
                defect_rate=0.005, power_kw={"run": 1.2, "idle": 0.9, "standby": 0.2},
                sensors=[_s("temperature_c", "degC", 36.0, 34.0, 24.0, 0.2, 400.0),
                         _s("vibration_mm_s", "mm/s", 0.4, 0.2, 0.05, 0.04, 5.0),
                         _s("current_a", "A", 2.1, 1.6, 0.0, 0.05, 3.0)]),
    MachineSpec("packer", "packaging", "Case packer and labeller", 10.0, defect_rate=0.004,
                power_kw={"run": 6.0, "idle": 2.0, "standby": 0.5},
                sensors=[_s("temperature_c", "degC", 29.0, 26.0, 24.0, 0.2, 300.0),
                         _s("vibration_mm_s", "mm/s", 1.4, 0.3, 0.05, 0.1, 5.0),
                         _s("current_a", "A", 5.5, 1.8, 0.0, 0.12, 3.0)]),
]

MACHINE_OVERRIDABLE = {"ideal_cycle_s", "speed_pct", "defect_rate", "every_nth_bad", "power_kw", "dimension"}


@dataclass
class LineSpec:
    site: str = "tko"
    area: str = "plant-a"
    line: str = "line-1"
    machines: list[MachineSpec] = field(default_factory=list)
    buffer_capacity: int = 20
    buffer_initial: int = 5


def build_line(options: dict[str, Any] | None) -> LineSpec:
    """Default line with the scenario's overrides applied (unknown keys are rejected by the scenario schema)."""
    options = options or {}
    machines = copy.deepcopy(DEFAULT_MACHINES)
    overrides = options.get("machines") or {}
    for spec in machines:
        for key, value in (overrides.get(spec.name) or {}).items():
            if key == "power_kw":
                spec.power_kw = {**spec.power_kw, **value}
            elif key == "dimension":
                spec.dimension = {**(spec.dimension or {}), **value}
            else:
                setattr(spec, key, value)
    buffers = options.get("buffers") or {}
    return LineSpec(site=options.get("site", "tko"), area=options.get("area", "plant-a"),
                    line=options.get("line", "line-1"), machines=machines,
                    buffer_capacity=int(buffers.get("capacity", 20)), buffer_initial=int(buffers.get("initial", 5)))
