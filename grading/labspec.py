"""lab.yaml: parsed and validated with the line of every problem, so a bad file aborts the course import
with "file:line: message". The format is documented in grading/LABS.md."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from lms.core.exceptions import UserError

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
KNOWN = {"title", "points", "pass_mark", "scenario", "seed", "duration_s", "time_limit_s", "memory_mb", "due",
         "late_policy", "notebooks"}
MAX_TIME_S, MAX_MEMORY_MB = 1800, 8192


@dataclass
class LabSpec:
    slug: str
    directory: Path
    title: str
    pass_mark: float | str  # points, or "NN%"
    notebooks: list[str]
    scenario: str = ""
    seed_policy: str = "per-trainee"
    fixed_seed: int | None = None
    duration_s: int = 600
    time_limit_s: int = 60
    memory_mb: int = 512
    due_at: datetime | None = None
    late_policy: dict[str, Any] = field(default_factory=dict)
    points: float | None = None

    def source_hash(self) -> str:
        """Hash of the notebooks and data files: the test suite a grade was computed with."""
        digest = hashlib.sha256()
        for path in sorted(p for p in self.directory.rglob("*") if p.is_file() and p.name != "lab.yaml"
                           and ".ipynb_checkpoints" not in p.parts):
            digest.update(str(path.relative_to(self.directory)).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()

    def pass_points(self, total: float) -> float:
        if isinstance(self.pass_mark, str):
            return round(total * float(self.pass_mark[:-1]) / 100.0, 4)
        return float(self.pass_mark)


def _lines(node: yaml.Node) -> dict[str, int]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark.line + 1 for k, _v in node.value if isinstance(k, yaml.ScalarNode)}


def load_lab(directory: Path) -> LabSpec:
    """Read directory/lab.yaml; raises UserError("path:line: message")."""
    path = directory / "lab.yaml"
    name = str(path)

    def fail(message: str, line: int = 1) -> UserError:
        return UserError(f"{name}:{line}: {message}")

    if not SLUG.match(directory.name):
        raise fail(f"lab folder name {directory.name!r} must be lowercase letters, digits and dashes")
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except UnicodeDecodeError:
        raise fail("not UTF-8 text") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise fail(f"invalid YAML: {getattr(error, 'problem', error)}", (mark.line + 1) if mark else 1) from None
    if not isinstance(data, dict):
        raise fail("lab.yaml must be a mapping of settings")
    lines = _lines(node)
    at = lambda key: lines.get(key, 1)  # noqa: E731
    unknown = sorted(set(data) - KNOWN)
    if unknown:
        raise fail(f"unknown setting {unknown[0]!r} (known: {', '.join(sorted(KNOWN))})", at(unknown[0]))
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise fail("title is required", at("title"))

    def integer(key: str, default: int, low: int, high: int) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise fail(f"{key} must be a whole number from {low} to {high}, got {value!r}", at(key))
        return value

    pass_mark = data.get("pass_mark", "60%")
    if isinstance(pass_mark, str):
        if not re.fullmatch(r"\d{1,3}(\.\d+)?%", pass_mark) or float(pass_mark[:-1]) > 100:
            raise fail(f"pass_mark must be points or a percentage like '60%', got {pass_mark!r}", at("pass_mark"))
    elif isinstance(pass_mark, bool) or not isinstance(pass_mark, (int, float)) or pass_mark < 0:
        raise fail(f"pass_mark must be points or a percentage like '60%', got {pass_mark!r}", at("pass_mark"))
    points = data.get("points")
    if points is not None and (isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0):
        raise fail(f"points must be a positive number, got {points!r}", at("points"))
    seed = data.get("seed", "per-trainee")
    if seed == "per-trainee":
        seed_policy, fixed_seed = "per-trainee", None
    elif isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**31:
        seed_policy, fixed_seed = "fixed", seed
    else:
        raise fail(f"seed must be 'per-trainee' or a whole number, got {seed!r}", at("seed"))
    scenario = data.get("scenario", "")
    if not isinstance(scenario, str) or (scenario and not SLUG.match(scenario)):
        raise fail(f"scenario must be a scenario name like 'steady-shift', got {scenario!r}", at("scenario"))
    due_at = _due(data.get("due"), lambda m: fail(m, at("due")))
    late = data.get("late_policy") or {}
    if not isinstance(late, dict) or set(late) - {"per_day_percent", "max_days"}:
        raise fail("late_policy takes per_day_percent and max_days", at("late_policy"))
    for key in late:
        value = late[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 \
                or (key == "per_day_percent" and value > 100):
            raise fail(f"late_policy.{key} must be a number from 0{' to 100' if key == 'per_day_percent' else ''}",
                       at("late_policy"))
    notebooks = data.get("notebooks")
    found = sorted(p.stem for p in directory.glob("*.ipynb"))
    if notebooks is None:
        notebooks = found
    if not isinstance(notebooks, list) or not all(isinstance(n, str) for n in notebooks):
        raise fail("notebooks must be a list of notebook names", at("notebooks"))
    notebooks = [n[:-6] if n.endswith(".ipynb") else n for n in notebooks]
    if not notebooks:
        raise fail("the lab folder has no source notebook (*.ipynb)", at("notebooks"))
    for nb in notebooks:
        if nb not in found:
            raise fail(f"notebook {nb}.ipynb is listed but not in {directory}", at("notebooks"))
    return LabSpec(slug=directory.name, directory=directory, title=title.strip(), pass_mark=pass_mark,
                   notebooks=notebooks, scenario=scenario, seed_policy=seed_policy, fixed_seed=fixed_seed,
                   duration_s=integer("duration_s", 600, 10, 86400),
                   time_limit_s=integer("time_limit_s", 60, 5, MAX_TIME_S),
                   memory_mb=integer("memory_mb", 512, 128, MAX_MEMORY_MB), due_at=due_at,
                   late_policy=dict(late), points=float(points) if points is not None else None)


def _due(value: Any, fail) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            raise fail(f"due must be an ISO date-time with offset like 2026-12-31T23:59:00+08:00, got {value!r}")
    if parsed.tzinfo is None:
        raise fail("due needs a UTC offset (for example +08:00 for Hong Kong)")
    return parsed.astimezone(timezone.utc)


def discover(course_dir: Path) -> list[LabSpec]:
    labs_dir = course_dir / "labs"
    if not labs_dir.is_dir():
        return []
    return [load_lab(d) for d in sorted(labs_dir.iterdir())
            if d.is_dir() and not d.name.startswith((".", "_")) and (d / "lab.yaml").is_file()]
