"""Reads for quizzes, also used by other packages (learning dashboard, certificates, instructor gradebook)."""
from __future__ import annotations

import importlib.util
from datetime import timedelta
from typing import Any

from flask import abort
from flask_babel import get_locale
from sqlalchemy import case, func, select

from ..extensions import db
from ..models import Course, Enrolment, Module, Question, Quiz, QuizAttempt
from . import clock

#: Submissions up to this long after the deadline still count (network delay, a slow click).
GRACE = timedelta(seconds=30)
CLOSED = ("submitted", "expired")


def get_quiz_or_404(quiz_id: int) -> Quiz:
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None or quiz.archived or quiz.module.archived or quiz.module.course.archived:
        abort(404)
    return quiz


def own_attempt_or_404(attempt_id: int, user_id: int) -> QuizAttempt:
    """Another trainee's attempt is reported as missing, so ids reveal nothing."""
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.user_id != user_id:
        abort(404)
    return attempt


def is_enrolled(user_id: int, course_id: int) -> bool:
    found = db.session.scalar(select(Enrolment.id).where(
        Enrolment.user_id == user_id, Enrolment.course_id == course_id, Enrolment.status != "withdrawn"))
    return found is not None


def module_locked(user_id: int, module: Module) -> bool:
    """Module prerequisites belong to the learning package: ask it, when it is installed."""
    if importlib.util.find_spec("lms.learning") is None or importlib.util.find_spec("lms.learning.queries") is None:
        return False
    learning = importlib.import_module("lms.learning.queries")
    if hasattr(learning, "module_locked"):
        return bool(learning.module_locked(user_id, module.id))
    if not module.prerequisites or not hasattr(learning, "course_progress"):
        return False
    state = learning.module_state(learning.course_progress(user_id, module.course), module)
    return not state.get("unlocked", True)


def open_attempt(user_id: int, quiz_id: int) -> QuizAttempt | None:
    return db.session.scalar(select(QuizAttempt).where(
        QuizAttempt.user_id == user_id, QuizAttempt.quiz_id == quiz_id, QuizAttempt.status == "open"))


def attempts(user_id: int, quiz_id: int) -> list[QuizAttempt]:
    return list(db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.user_id == user_id, QuizAttempt.quiz_id == quiz_id).order_by(QuizAttempt.id)))


def attempts_left(quiz: Quiz, used: int) -> int | None:
    return None if quiz.attempt_limit is None else max(quiz.attempt_limit - used, 0)


def is_overdue(attempt: QuizAttempt) -> bool:
    return attempt.deadline is not None and clock.now() > attempt.deadline + GRACE


def seconds_left(attempt: QuizAttempt) -> int | None:
    if attempt.deadline is None:
        return None
    return max(int((attempt.deadline - clock.now()).total_seconds()), 0)


def active_question_ids(quiz_id: int) -> list[int]:
    return list(db.session.scalars(select(Question.id).where(
        Question.quiz_id == quiz_id, Question.archived.is_(False)).order_by(Question.position, Question.id)))


def attempt_questions(attempt: QuizAttempt) -> list[Question]:
    """The drawn questions in the drawn order (archived ones included: old attempts stay readable)."""
    rows = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(attempt.question_ids)))}
    return [rows[i] for i in attempt.question_ids if i in rows]


def localised(row: Any, field: str) -> Any:
    """Content translation from row.translations[locale][field], falling back to the imported (English) text."""
    locale = str(get_locale() or "en")
    value = (row.translations or {}).get(locale, {}).get(field) if isinstance(row.translations, dict) else None
    return value if value else getattr(row, field)


def _best_by_quiz(user_ids: list[int], quiz_ids: list[int]) -> dict[tuple[int, int], dict[str, Any]]:
    if not user_ids or not quiz_ids:
        return {}
    rows = db.session.execute(
        select(QuizAttempt.user_id, QuizAttempt.quiz_id, func.max(QuizAttempt.percent), func.count(QuizAttempt.id),
               func.max(case((QuizAttempt.passed.is_(True), 1), else_=0)))
        .where(QuizAttempt.user_id.in_(user_ids), QuizAttempt.quiz_id.in_(quiz_ids),
               QuizAttempt.status.in_(CLOSED))
        .group_by(QuizAttempt.user_id, QuizAttempt.quiz_id))
    return {(u, q): {"best_percent": float(best), "attempts": int(count), "passed": bool(passed)}
            for u, q, best, count, passed in rows}


def course_quizzes(course_id: int) -> list[Quiz]:
    """Active quizzes of a course in module then quiz order."""
    return list(db.session.scalars(
        select(Quiz).join(Module).where(Module.course_id == course_id, Module.archived.is_(False),
                                        Quiz.archived.is_(False)).order_by(Module.position, Quiz.position, Quiz.id)))


def quiz_results(user_id: int, course_id: int) -> list[dict[str, Any]]:
    """[{quiz_id, slug, title, best_percent, passed, attempts}] for every active quiz; best_percent None if untried."""
    quizzes = course_quizzes(course_id)
    best = _best_by_quiz([user_id], [q.id for q in quizzes])
    results = []
    for quiz in quizzes:
        found = best.get((user_id, quiz.id), {"best_percent": None, "attempts": 0, "passed": False})
        results.append({"quiz_id": quiz.id, "slug": quiz.slug, "title": localised(quiz, "title"), **found})
    return results


def passed_quiz_slugs(user_id: int, course_id: int) -> set[str]:
    return {r["slug"] for r in quiz_results(user_id, course_id) if r["passed"]}


def gradebook_results(course_id: int, user_ids: list[int]) -> tuple[list[Quiz], dict[tuple[int, int], dict]]:
    """For the instructor gradebook: the course's quizzes and {(user_id, quiz_id): best/attempts/passed}."""
    quizzes = course_quizzes(course_id)
    return quizzes, _best_by_quiz(user_ids, [q.id for q in quizzes])


def my_quizzes(user_id: int) -> list[tuple[Course, list[dict[str, Any]]]]:
    """The signed-in trainee's quizzes per enrolled course, for the Quizzes page."""
    courses = db.session.scalars(select(Course).join(Enrolment, Enrolment.course_id == Course.id).where(
        Enrolment.user_id == user_id, Enrolment.status != "withdrawn", Course.archived.is_(False))
        .order_by(Course.position, Course.title))
    return [(course, quiz_results(user_id, course.id)) for course in courses]


def course_attempts(user_id: int, course_id: int) -> list[QuizAttempt]:
    """A trainee's closed attempts in a course, for staff review."""
    return list(db.session.scalars(
        select(QuizAttempt).join(Quiz).join(Module)
        .where(QuizAttempt.user_id == user_id, Module.course_id == course_id, QuizAttempt.status.in_(CLOSED))
        .order_by(Module.position, Quiz.position, QuizAttempt.id)))


def course_attempt_or_404(attempt_id: int, course_id: int) -> QuizAttempt:
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.status not in CLOSED or attempt.quiz.module.course_id != course_id:
        abort(404)
    return attempt
