"""Instructor pages; every route requires the instructor or admin role."""
from __future__ import annotations

import re

from flask import Blueprint, Response, render_template, url_for

from ..core.decorators import instructor_required
from ..quizzes import present
from ..quizzes import queries as quiz_queries
from . import queries
from .export import gradebook_csv

bp = Blueprint("instructor", __name__, url_prefix="/instructor", static_folder="static",
               static_url_path="/static")


@bp.get("/")
@instructor_required
def index():
    return render_template("instructor/index.html", courses=queries.courses_with_counts())


@bp.get("/courses/<slug>/gradebook")
@instructor_required
def gradebook(slug: str):
    return render_template("instructor/gradebook.html", book=queries.gradebook(queries.course_or_404(slug)))


@bp.get("/courses/<slug>/gradebook.csv")
@instructor_required
def gradebook_export(slug: str):
    book = queries.gradebook(queries.course_or_404(slug))
    filename = re.sub(r"[^A-Za-z0-9_-]", "_", book.course.slug) + "-gradebook.csv"
    return Response(gradebook_csv(book), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store"})


@bp.get("/courses/<slug>/trainees/<int:user_id>")
@instructor_required
def trainee(slug: str, user_id: int):
    course = queries.course_or_404(slug)
    person = queries.person_or_404(user_id)
    return render_template("instructor/trainee.html", course=course, person=person,
                           attempts=quiz_queries.course_attempts(user_id, course.id))


@bp.get("/courses/<slug>/attempts/<int:attempt_id>")
@instructor_required
def attempt(slug: str, attempt_id: int):
    course = queries.course_or_404(slug)
    attempt = quiz_queries.course_attempt_or_404(attempt_id, course.id)
    review = present.reviewed_questions(attempt, quiz_queries.attempt_questions(attempt))
    return render_template("quizzes/result.html", attempt=attempt, quiz=attempt.quiz, review=review,
                           title=quiz_queries.localised(attempt.quiz, "title"),
                           person=queries.person_or_404(attempt.user_id),
                           back=url_for(".trainee", slug=course.slug, user_id=attempt.user_id))
