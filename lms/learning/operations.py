"""Writes for learning: enrol and mark a lesson done. The caller (view) commits once."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from .. import signals
from ..core import audit
from ..core.exceptions import Conflict, NotAllowed
from ..extensions import db
from ..models import Course, Enrolment, Lesson, LessonCompletion, User
from . import queries


def enrol(user: User, course: Course) -> tuple[Enrolment, bool]:
    """(enrolment, created). Refuses archived courses and unmet prerequisite courses."""
    existing = queries.enrolment_for(user.id, course.id)
    if existing is not None and existing.status in queries.ACTIVE_STATUSES:
        return existing, False
    if course.archived:
        raise Conflict(_("This course has been retired and no longer accepts enrolments."))
    missing = queries.missing_course_prerequisites(user.id, course)
    if missing:
        names = ", ".join(queries.tr(c, "title") if isinstance(c, Course) else c for c in missing)
        raise NotAllowed(_("Complete the prerequisite course(s) first: %(names)s.", names=names))
    if existing is not None:  # withdrawn earlier: re-activate, keeping past progress
        existing.status = "active"
        enrolment = existing
    else:
        enrolment = Enrolment(user_id=user.id, course_id=course.id, status="active")
        try:
            with db.session.begin_nested():
                db.session.add(enrolment)
        except IntegrityError:  # a double click raced us; the other request enrolled
            return queries.enrolment_for(user.id, course.id), False
    audit.record("course.enrol", course.slug, actor_id=user.id)
    return enrolment, True


def mark_lesson_done(user: User, lesson: Lesson) -> bool:
    """True when newly recorded. Access (enrolment, module lock) is checked by the view's decorator."""
    if lesson.id in queries.done_lesson_ids(user.id, [lesson.id]):
        return False
    try:
        with db.session.begin_nested():
            db.session.add(LessonCompletion(user_id=user.id, lesson_id=lesson.id))
    except IntegrityError:  # the same lesson marked twice at once
        return False
    signals.progress_changed.send(current_app._get_current_object(), user_id=user.id,
                                  course_id=lesson.module.course_id)
    return True
