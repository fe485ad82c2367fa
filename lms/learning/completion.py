"""Course completion: evaluated whenever progress changes, recorded once, announced with course_completed.

Runs inside the caller's transaction (the request or the grading job commits once).
"""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from .. import signals
from ..extensions import db
from ..models import Course
from ..models._types import utcnow
from . import queries


def evaluate(user_id: int, course: Course) -> tuple[bool, list[dict[str, Any]]]:
    """(criteria met?, evidence) — evidence lists the quizzes and labs the criteria asked for."""
    need_lessons, need_quizzes, need_labs = queries.required(course)
    done = queries.done_lesson_ids(user_id, [lesson.id for lesson in need_lessons])
    best = queries.best_quiz_attempts(user_id, [q.id for q in need_quizzes])
    labs = queries.lab_results(user_id, course.slug) if need_labs else {}
    met = len(done) == len(need_lessons) and all(q.id in best for q in need_quizzes) and all(
        labs.get(slug, {}).get("passed") for slug in need_labs)
    evidence: list[dict[str, Any]] = []
    for quiz in need_quizzes:
        attempt = best.get(quiz.id)
        if attempt is not None:
            evidence.append({"type": "quiz", "slug": quiz.slug, "title": quiz.title, "score": attempt.score,
                             "max_score": attempt.max_score, "passed": True})
    for slug in need_labs:
        result = labs.get(slug)
        if result is not None:
            evidence.append({"type": "lab", "slug": slug, "title": result.get("title") or slug,
                             "score": result.get("score"), "max_score": result.get("max_score"),
                             "passed": bool(result.get("passed"))})
    return met, evidence


def check_completion(user_id: int, course_id: int) -> bool:
    """Record completion if the criteria are met and it is not recorded yet; True when newly completed."""
    course = db.session.get(Course, course_id)
    if course is None:
        return False
    enrolment = queries.enrolment_for(user_id, course_id)
    if enrolment is None or enrolment.completed_at is not None or enrolment.status == "withdrawn":
        return False
    met, evidence = evaluate(user_id, course)
    if not met:
        return False
    enrolment.completed_at = utcnow()
    enrolment.status = "completed"
    db.session.flush()
    signals.course_completed.send(current_app._get_current_object(), user_id=user_id, course_id=course_id,
                                  evidence=evidence)
    return True


def _on_progress(sender, user_id: int, course_id: int, **_extra) -> None:
    check_completion(user_id, course_id)


def _on_quiz(sender, user_id: int, course_id: int | None = None, passed: bool = False, **_extra) -> None:
    if passed and course_id is not None:
        check_completion(user_id, course_id)


def _on_lab(sender, user_id: int, course_slug: str, **_extra) -> None:
    course = queries.course_by_slug(course_slug)
    if course is not None:
        check_completion(user_id, course.id)


def connect(app: Flask) -> None:
    signals.progress_changed.connect(_on_progress, sender=app)
    signals.quiz_submitted.connect(_on_quiz, sender=app)
    signals.lab_graded.connect(_on_lab, sender=app)
