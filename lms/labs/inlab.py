"""Submit from inside the lab: what the token-authenticated endpoints do for the in-lab command.

The command (`%submit` in the kernel, `nia-submit` in a terminal; virtual_lab/hub/labsubmit.py) only prints what
these answers say, so every message is composed (and translated) here.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app, request, url_for
from flask_babel import format_decimal, gettext as _

from lms.core.exceptions import NotAllowed, NotFound
from lms.core.i18n import format_when

from . import operations, providers
from .labauth import LabCaller
from .queries import may_use_lab


def _absolute(path: str | None) -> str | None:
    """Links the trainee opens in the browser: PUBLIC_BASE_URL when set, else the address the lab used."""
    if not path:
        return None
    base = (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    return base + path


def _clock(iso: str | None) -> str:
    try:
        return format_when(datetime.fromisoformat((iso or "").replace("Z", "+00:00")), seconds=True)
    except ValueError:
        return "?"


def submit_from_lab(caller: LabCaller) -> dict:
    """Submit the lab the caller's server belongs to, as the LMS lab page does (same checks, same queue)."""
    row = caller.row
    spec = providers.lab_spec(row.course_slug, row.lab_slug)
    if spec is None:
        raise NotFound(_("This lab no longer exists, so it cannot be submitted."))
    if not may_use_lab(caller.user, spec.course):
        raise NotAllowed(_("Your account may not use this lab any more."))
    receipt, saved_at = operations.submit(caller.user, spec)
    return {"submission_id": receipt.submission_id, "status": receipt.status, "notebook": spec.main_notebook,
            "saved_at": saved_at, "url": _absolute(receipt.url),
            "status_url": _absolute(url_for("labs.lab_submission_status", submission_id=receipt.submission_id)),
            "message": _("Submitted %(notebook)s as last saved at %(saved)s (submission %(id)s). Changes you have "
                         "not saved are not included.", notebook=spec.main_notebook, saved=_clock(saved_at),
                         id=receipt.submission_id)}


def status_message(status: dict) -> str:
    state = status.get("status")
    if state == "graded" and status.get("score") is not None:
        return _("Graded: %(score)s / %(max)s points.", score=format_decimal(status["score"]),
                 max=format_decimal(status.get("max_score") or 0))
    if state == "queued":
        if status.get("queue_position"):
            return _("Waiting for grading (position %(position)s in the queue)…", position=status["queue_position"])
        return _("Waiting for grading…")
    if state == "grading":
        return _("Grading…")
    if status.get("error"):
        return _("Grading did not finish: %(error)s", error=status["error"])
    return _("Grading status: %(status)s", status=state)


def status_from_lab(caller: LabCaller, submission_id: int) -> dict:
    """The caller's own submission only; another trainee's id is simply not found."""
    status = providers.submission_status(caller.user.id, submission_id)
    if status is None:
        raise NotFound(_("You have no submission %(id)s.", id=submission_id))
    return {**status, "url": _absolute(status.get("url")), "message": status_message(status)}
