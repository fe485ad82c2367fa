"""Permission decorators for learning pages: who may open a course and its lessons."""
from __future__ import annotations

from functools import partial, wraps
from typing import Callable

from flask import abort, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required

from . import queries


def course_visible(view: Callable, *, read_only: bool = False) -> Callable:
    """Loads `slug` as `course`: 404 for unknown slugs, and for retired courses unless staff or enrolled.
    `read_only` views get the shared snapshot of the course (no query per request) instead of the row."""
    load = queries.course_for_reading if read_only else queries.course_by_slug

    @wraps(view)
    def wrapped(slug: str, *args, **kwargs):
        course = load(slug)
        if course is None:
            abort(404)
        if course.archived and not _is_staff() and not (
                current_user.is_authenticated and queries.is_enrolled(current_user.id, course.slug)):
            abort(404)
        return view(course, *args, **kwargs)

    return wrapped


def lesson_access(view: Callable) -> Callable:
    """Signed in, enrolled (or staff) and the lesson's module unlocked; otherwise a 403 page that says why."""

    @wraps(view)
    @login_required
    @partial(course_visible, read_only=True)
    def wrapped(course, lesson_slug: str, *args, **kwargs):
        lesson = queries.lesson_by_slug(course, lesson_slug)
        if lesson is None:
            abort(404)
        progress = queries.course_progress(current_user.id, course)
        if not _is_staff():
            if not progress["enrolled"]:
                return _refused(course, _("Enrol in this course to read its lessons."), [])
            state = queries.module_state(progress, lesson.module)
            if not state["unlocked"]:
                by_slug = {m.slug: m for m in queries.active_modules(course)}
                missing = [by_slug[s] for s in state["missing"] if s in by_slug]
                return _refused(course, _("This lesson is in a module that is still locked. Finish these "
                                          "modules first:"), missing)
        return view(course, lesson, progress, *args, **kwargs)

    return wrapped


def _is_staff() -> bool:
    return bool(current_user.is_authenticated and current_user.is_staff)


def _refused(course, reason: str, modules: list):
    return render_template("learning/locked.html", course=course, reason=reason, modules=modules), 403
