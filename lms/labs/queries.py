"""Reads: who may use a lab, and the LMS's record of a trainee's lab server."""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from sqlalchemy import select

from lms.extensions import db
from lms.models import Course, Enrolment, User
from lms.oidc.claims import LIVE_STATUSES

from .models import LabServer


def server_name(course_slug: str, lab_slug: str) -> str:
    """JupyterHub 6 server names are 'safe slugs' (<= 30 chars, no '--'): a stable digest of course/lab."""
    return "lab-" + hashlib.sha256(f"{course_slug}/{lab_slug}".encode()).hexdigest()[:12]


def may_use_lab(user: User, course_slug: str) -> bool:
    """Staff always; trainees only with a live enrolment in the lab's course."""
    if user.is_staff:
        return True
    return db.session.scalar(
        select(Enrolment.id).join(Course, Course.id == Enrolment.course_id)
        .where(Enrolment.user_id == user.id, Course.slug == course_slug, Enrolment.status.in_(LIVE_STATUSES))
        .limit(1)) is not None


def lab_server(user_id: int, course_slug: str, lab_slug: str) -> LabServer | None:
    return db.session.scalar(select(LabServer).where(
        LabServer.user_id == user_id, LabServer.course_slug == course_slug, LabServer.lab_slug == lab_slug))


def lab_server_by_name(user_id: int, name: str) -> LabServer | None:
    return db.session.scalar(select(LabServer).where(LabServer.user_id == user_id, LabServer.server_name == name))


def _keyed_seed(label: str) -> int:
    mac = hmac.new(current_app.config["SECRET_KEY"].encode(), label.encode(), hashlib.sha256)
    return int.from_bytes(mac.digest()[:4], "big") & 0x7FFFFFFF


def trainee_seed(user_id: int, course_slug: str, lab_slug: str) -> int:
    """Stable per trainee and lab (for labs whose provider gives no seed), unguessable by other trainees."""
    return _keyed_seed(f"seed:{user_id}:{course_slug}:{lab_slug}")


def line_seed(user_id: int, scenario: str) -> int:
    """The one seed source for a trainee's line on `scenario`, wherever it is started (lab launch, "My line").

    The seed grading replays for the trainee's lab on that scenario (the most recently launched lab first), so the
    live line and the graded replay agree; a scenario no lab of theirs uses gets a stable per-trainee seed."""
    launched = [(row.course_slug, row.lab_slug) for row in db.session.scalars(
        select(LabServer).where(LabServer.user_id == user_id)
        .order_by(LabServer.last_launch_at.desc().nulls_last(), LabServer.id.desc()))]
    from .providers import scenario_seed

    seed = scenario_seed(user_id, scenario, launched)
    return int(seed) if seed is not None else _keyed_seed(f"line-seed:{user_id}:{scenario}")
