"""Plug-in points the lab launcher needs from other packages (registered in their init_app).

- lab spec provider (grading): `fn(course_slug, lab_slug) -> LabSpec | None` — what to stage in the server.
- line provider (virtual_lab): `fn(user_id, spec, seed) -> LineAccess` — starts the trainee's simulated line and
  returns the MQTT access the kernel gets (own credentials, own topic prefix).
- submit handler (grading): `fn(user_id, course_slug, lab_slug, notebook: dict, filename) -> SubmitReceipt`.
- results link (grading): `fn(course_slug, lab_slug) -> str | None` — where the trainee sees submissions and grades.
- submission status (grading): `fn(user_id, submission_id) -> dict | None` — {status, final, score, max_score,
  error, url} of the caller's own submission, for the in-lab submit command's polling.
- scenario seed (grading): `fn(user_id, scenario, launched: list[(course, lab)]) -> int | None` — the seed grading
  replays for the trainee's lab on that scenario (the most recently launched first), so a line started anywhere
  (lab launch or the "My line" page) runs what grading replays.
The first provider that answers (not None) wins, so a test or a course pack can add its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from flask import Flask, current_app


@dataclass(frozen=True)
class LabSpec:
    course: str
    lab: str
    title: str
    files: dict[str, bytes]      # relative path -> content, staged once (never over the trainee's work)
    main_notebook: str           # relative path JupyterLab opens and submit fetches
    scenario: str = ""           # simulator scenario name
    extra_env: dict[str, str] = field(default_factory=dict)  # non-secret, lab-wide settings
    # The trainee's seed as grading computes it (so the live line and grading's offline replay agree);
    # None: the LMS derives a stable per-trainee seed itself.
    seed_for: Optional[Callable[[int], int]] = field(default=None, compare=False)


@dataclass(frozen=True)
class LineAccess:
    mqtt_host: str
    mqtt_port: int
    username: str
    password: str
    topic_prefix: str
    seed: int | None = None      # None: the LMS derives a stable per-trainee seed


@dataclass(frozen=True)
class SubmitReceipt:
    submission_id: int | str
    status: str                  # e.g. "queued"
    url: str | None = None       # where the trainee follows the grading result
    after_commit: Optional[Callable[[], None]] = field(default=None, compare=False)  # e.g. hand the job to a queue


LabSpecProvider = Callable[[str, str], LabSpec | None]
LineProvider = Callable[[int, LabSpec, int], LineAccess | None]
SubmitHandler = Callable[[int, str, str, dict[str, Any], str], SubmitReceipt | None]


def register_lab_spec_provider(app: Flask, provider: LabSpecProvider) -> None:
    app.extensions.setdefault("nia.lab_spec_providers", []).append(provider)


def register_line_provider(app: Flask, provider: LineProvider) -> None:
    app.extensions.setdefault("nia.line_providers", []).append(provider)


def register_submit_handler(app: Flask, handler: SubmitHandler) -> None:
    app.extensions.setdefault("nia.lab_submit_handlers", []).append(handler)


def register_results_link(app: Flask, provider: Callable[[str, str], str | None]) -> None:
    app.extensions.setdefault("nia.lab_results_links", []).append(provider)


def register_submission_status(app: Flask, provider: Callable[[int, int], dict | None]) -> None:
    app.extensions.setdefault("nia.lab_submission_status", []).append(provider)


def register_scenario_seed(app: Flask, provider: Callable[[int, str, list[tuple[str, str]]], int | None]) -> None:
    app.extensions.setdefault("nia.lab_scenario_seeds", []).append(provider)


def _first(kind: str, *args):
    for provider in current_app.extensions.get(kind, []):
        answer = provider(*args)
        if answer is not None:
            return answer
    return None


def lab_spec(course_slug: str, lab_slug: str) -> LabSpec | None:
    return _first("nia.lab_spec_providers", course_slug, lab_slug)


def line_access(user_id: int, spec: LabSpec, seed: int) -> LineAccess | None:
    return _first("nia.line_providers", user_id, spec, seed)


def submit_notebook(user_id: int, course: str, lab: str, notebook: dict, filename: str) -> SubmitReceipt | None:
    return _first("nia.lab_submit_handlers", user_id, course, lab, notebook, filename)


def results_link(course: str, lab: str) -> str | None:
    return _first("nia.lab_results_links", course, lab)


def submission_status(user_id: int, submission_id: int) -> dict | None:
    return _first("nia.lab_submission_status", user_id, submission_id)


def scenario_seed(user_id: int, scenario: str, launched: list[tuple[str, str]]) -> int | None:
    return _first("nia.lab_scenario_seeds", user_id, scenario, launched)


def has(kind: str) -> bool:
    return bool(current_app.extensions.get({"spec": "nia.lab_spec_providers", "line": "nia.line_providers",
                                            "submit": "nia.lab_submit_handlers"}[kind]))
