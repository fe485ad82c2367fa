"""Catalog, course and lesson pages, enrolment, mark-as-done, trainee dashboard and course assets."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.utils import safe_join

from ..content.importer import assets_root
from ..content.markdown import ASSET_EXTENSIONS
from ..core.decorators import public, trainee_required
from ..core.exceptions import UserError
from ..core.page_cache import render_personal, shared_page
from ..extensions import db
from . import operations, queries
from .access import course_visible, lesson_access

bp = Blueprint("learning", __name__)
ASSET_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


@bp.get("/courses")
@public
@shared_page
def catalog():
    staff = current_user.is_authenticated and current_user.is_staff
    courses = queries.catalog(include_archived=staff)
    enrolled = {e.course_id: e for e in queries.user_enrolments(current_user.id)} \
        if current_user.is_authenticated else {}
    return render_template("learning/catalog.html", courses=courses, enrolled=enrolled)


@bp.get("/courses/<slug>")
@public
@shared_page
@course_visible
def course(course):
    user_id = current_user.id if current_user.is_authenticated else None
    progress = queries.course_progress(user_id, course) if user_id else None
    missing = queries.missing_course_prerequisites(user_id, course)
    return render_template("learning/course.html", course=course, progress=progress, missing=missing,
                           modules=queries.all_modules(course),
                           prerequisites=[queries.course_by_slug(s) or s for s in course.prerequisites or []])


@bp.get("/courses/<slug>/enrol")
@public
def enrol_page(slug: str):
    """Where login sends an anonymous visitor back after pressing "Enrol": the course page, to press it again."""
    return redirect(url_for(".course", slug=slug), 303)


@bp.post("/courses/<slug>/enrol")
@trainee_required
@course_visible
def enrol(course):
    try:
        _enrolment, created = operations.enrol(current_user, course)
    except UserError as error:
        flash(error.message, "error")
        return redirect(url_for(".course", slug=course.slug))
    db.session.commit()
    flash(_("You are enrolled. Start with the first lesson.") if created else _("You are already enrolled."),
          "success")
    return redirect(url_for(".course", slug=course.slug))


@bp.get("/courses/<slug>/lessons/<lesson_slug>")
@lesson_access
def lesson(course, lesson, progress):
    order = [x for m in queries.active_modules(course) for x in queries.active_lessons(m)]
    index = order.index(lesson)
    done = lesson.id in progress["done_lesson_ids"]
    return render_personal("learning/lesson.html", (lesson.id, done, progress["enrolled"]), course=course,
                           lesson=lesson, progress=progress, previous=order[index - 1] if index else None,
                           next=order[index + 1] if index + 1 < len(order) else None, done=done)


@bp.post("/courses/<slug>/lessons/<lesson_slug>/done")
@lesson_access
def mark_done(course, lesson, progress):
    if not progress["enrolled"]:
        flash(_("Enrol in the course to record your progress."), "error")
        return redirect(url_for(".lesson", slug=course.slug, lesson_slug=lesson.slug))
    operations.mark_lesson_done(current_user, lesson)
    db.session.commit()
    flash(_("Lesson marked as done."), "success")
    following = queries.course_progress(current_user.id, course)
    if following["completed_at"]:
        flash(_("Congratulations: you have completed this course."), "success")
    return redirect(url_for(".lesson", slug=course.slug, lesson_slug=lesson.slug))


@bp.get("/dashboard")
@login_required
def dashboard():
    rows = [(e.course, queries.course_progress(current_user.id, e.course))
            for e in queries.user_enrolments(current_user.id)]
    return render_template("learning/dashboard.html", rows=rows)


@bp.get("/courses/<slug>/assets/<path:filename>")
@public
def asset(slug: str, filename: str):
    """Imported assets only (copied under the instance folder at import); never the raw course tree."""
    folder = assets_root() / slug
    if not queries.course_by_slug(slug) or Path(filename).suffix.lower() not in ASSET_EXTENSIONS \
            or safe_join(str(folder), filename) is None:
        abort(404)
    response = send_from_directory(folder, filename, max_age=current_app.config.get("SEND_FILE_MAX_AGE_DEFAULT")
                                   or 3600)
    response.headers["Content-Security-Policy"] = ASSET_CSP
    return response
