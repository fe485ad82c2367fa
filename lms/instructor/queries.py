"""Reads for instructor pages. Every course is visible to every instructor until course files name owners."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import abort
from sqlalchemy import case, func, select

from ..core.registry import gradebook_columns
from ..extensions import db
from ..models import Course, Enrolment, Role, User
from ..quizzes import queries as quiz_queries

ENROLLED = ("active", "completed")


def courses_with_counts() -> list[dict[str, Any]]:
    counts = dict(
        (course_id, (int(total), int(done))) for course_id, total, done in db.session.execute(
            select(Enrolment.course_id, func.count(Enrolment.id),
                   func.sum(case((Enrolment.status == "completed", 1), else_=0)))
            .where(Enrolment.status.in_(ENROLLED)).group_by(Enrolment.course_id)))
    courses = db.session.scalars(select(Course).order_by(Course.archived, Course.position, Course.title))
    return [{"course": c, "enrolled": counts.get(c.id, (0, 0))[0], "completed": counts.get(c.id, (0, 0))[1]}
            for c in courses]


def course_or_404(slug: str) -> Course:
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        abort(404)
    return course


def person_or_404(user_id: int) -> User:
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    return person


@dataclass
class Gradebook:
    course: Course
    quizzes: list[Any]
    rows: list[dict[str, Any]]
    extra_columns: list[str] = field(default_factory=list)


def gradebook(course: Course) -> Gradebook:
    """One row per enrolled trainee: best quiz percent, attempts and pass per quiz, plus plug-in columns (labs)."""
    roster = db.session.execute(
        select(User, Enrolment).join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.course_id == course.id, Enrolment.status.in_(ENROLLED), User.role == Role.TRAINEE.value)
        .order_by(User.name, User.email)).all()
    user_ids = [user.id for user, _enrolment in roster]
    quizzes, best = quiz_queries.gradebook_results(course.id, user_ids)
    extra_columns: list[str] = []
    extra_cells: dict[int, dict[str, Any]] = {uid: {} for uid in user_ids}
    for columns, cells in gradebook_columns(course.slug, user_ids):
        extra_columns.extend(c for c in columns if c not in extra_columns)
        for uid, values in cells.items():
            extra_cells.setdefault(uid, {}).update(values)
    rows = []
    for user, enrolment in roster:
        results = {q.id: best.get((user.id, q.id), {"best_percent": None, "attempts": 0, "passed": False})
                   for q in quizzes}
        rows.append({"user": user, "enrolment": enrolment, "quiz": results,
                     "extra": [extra_cells.get(user.id, {}).get(c) for c in extra_columns]})
    return Gradebook(course, quizzes, rows, extra_columns)
