"""Virtual lab: a seeded, replayable simulated factory line over MQTT, one isolated line per trainee.

`replay()` and `ground_truth()` run the engine offline (no broker, no database) and return exactly what the live
line publishes for the same scenario, seed and trainee.
"""
from __future__ import annotations

from typing import Any

__all__ = ["replay", "ground_truth", "kpis"]


def replay(scenario: str, *, seed: int, trainee: str, duration_s: float,
           commands: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Records {topic, payload, t_ms} in publish order; `commands` ({t_ms, topic, payload}) replays a session."""
    from .engine import run

    return run(scenario, seed=seed, trainee=trainee, duration_s=duration_s, commands=commands).records


def ground_truth(scenario: str, *, seed: int, trainee: str, duration_s: float,
                 commands: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Every injected fault that happened: {t_ms, end_ms, machine, kind, reason_code?, ...} in start order."""
    from .engine import run

    return run(scenario, seed=seed, trainee=trainee, duration_s=duration_s, commands=commands).ground_truth


def kpis(scenario: str, *, seed: int, trainee: str, duration_s: float) -> dict[str, dict[str, float]]:
    """True OEE figures per machine (availability, performance, quality, oee, counts, kWh) for the run."""
    from .engine import run

    return run(scenario, seed=seed, trainee=trainee, duration_s=duration_s).kpis()


def launcher_component() -> dict[str, Any]:
    """What `make run` starts for the simulator: broker + service + control channel (see lms/launcher.py)."""
    import os
    import sys

    port = int(os.environ.get("NIA_SIM_CONTROL_PORT", "18831"))
    return {"name": "simulator", "argv": [sys.executable, "-m", "virtual_lab", "serve"], "port": port}
