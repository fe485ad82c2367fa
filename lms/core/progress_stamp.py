"""Progress stamp: a random number on each user row, replaced in the same transaction as any change to a row that
course progress is computed from (enrolments, lesson completions, quiz attempts, lab submissions and grades).

Course progress is read on every lesson and course page; with the stamp it can be kept per process and served
again while the learner's stamp and the content generation are unchanged. Because the stamp is written by the
flush that writes the change itself, every process (web workers, the grading worker, the CLI) invalidates every
other process's copy at commit, and a rolled-back change leaves the stamp as it was. Random rather than counted,
so a user id reused after a reset never meets an old stamp.

Packages declare their progress rows with `track(Model, owner)`; `owner(row)` returns the learner's user id.
"""
from __future__ import annotations

import secrets
from typing import Any, Callable

from flask import g, has_app_context
from sqlalchemy import event, update
from sqlalchemy.orm import Session

OwnerOf = Callable[[Any], "int | None"]

_TRACKED: dict[type, OwnerOf] = {}
_WRITTEN = "_nia_progress_written"  # in `g`: this request or job changed progress, so stamps it read are stale


def new_stamp() -> int:
    return secrets.randbits(62)


def track(model: type, owner: OwnerOf | None = None) -> None:
    """Rows of `model` feed course progress; `owner(row)` is their learner's user id (default: row.user_id)."""
    _TRACKED[model] = owner or (lambda row: row.user_id)
    if not event.contains(Session, "before_flush", _stamp_changed_learners):
        event.listen(Session, "before_flush", _stamp_changed_learners)


def written_now() -> bool:
    """True once this request (or job) has flushed a progress change, or holds changes not flushed yet: stamps it
    read earlier may be stale."""
    if not has_app_context():
        return False
    if g.get(_WRITTEN):
        return True
    from ..extensions import db

    if not db.session.registry.has():  # no session yet: nothing pending
        return False
    return next(_tracked_rows(db.session.registry()), None) is not None


def _tracked_rows(session: Session):
    for row in (*session.new, *session.dirty, *session.deleted):
        owner_of = _TRACKED.get(type(row))
        if owner_of is not None:
            yield row, owner_of


def _stamp_changed_learners(session: Session, _context, _instances) -> None:
    owners = {owner for owner in (owner_of(row) for row, owner_of in _tracked_rows(session)) if owner is not None}
    if not owners:
        return
    from ..models import User

    if has_app_context():
        setattr(g, _WRITTEN, True)
    session.connection().execute(update(User.__table__).where(User.__table__.c.id.in_(sorted(owners)))
                                 .values(progress_stamp=new_stamp()))
