"""Writes for quiz attempts: start (or resume), submit, expire. Each commits its own work; signals follow."""
from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from .. import signals
from ..core.audit import record
from ..core.exceptions import Conflict, NotAllowed, NotFound
from ..extensions import db
from ..models import Question, Quiz, QuizAttempt, User
from . import clock, queries
from .scoring import AnswerError, Score, parse_answer, score_attempt, zero_score

log = logging.getLogger(__name__)
_random = secrets.SystemRandom()
FIELD_PREFIX = "q-"


class InvalidAnswers(Exception):
    """Some answers could not be read; `errors` maps a question id (or "_form") to a message, `raw` keeps input."""

    def __init__(self, errors: dict[str, str], raw: dict[str, list[str]]):
        super().__init__("invalid answers")
        self.errors = errors
        self.raw = raw


def check_access(user_id: int, quiz: Quiz) -> None:
    if not queries.is_enrolled(user_id, quiz.module.course_id):
        raise NotAllowed(_("Enrol in the course to take this quiz."))
    if queries.module_locked(user_id, quiz.module):
        raise NotAllowed(_("Finish the earlier modules first: this quiz is in a locked module."))


def start_attempt(user_id: int, quiz: Quiz) -> tuple[QuizAttempt, bool]:
    """Return (attempt, resumed): the open attempt if there is one, else a fresh random draw."""
    check_access(user_id, quiz)
    expire_overdue(user_id, quiz)
    # Serialise concurrent starts by the same user (double click) on databases that lock rows.
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update())
    current = queries.open_attempt(user_id, quiz.id)
    if current is not None:
        db.session.commit()
        return current, True
    used = len(queries.attempts(user_id, quiz.id))
    if quiz.attempt_limit is not None and used >= quiz.attempt_limit:
        db.session.commit()
        raise Conflict(_("You have used all %(limit)d attempts for this quiz.", limit=quiz.attempt_limit))
    bank = queries.active_question_ids(quiz.id)
    if not bank:
        db.session.commit()
        raise Conflict(_("This quiz has no questions yet. Please tell your instructor."))
    size = min(quiz.draw_count, len(bank)) if quiz.draw_count and quiz.draw_count > 0 else len(bank)
    started = clock.now()
    attempt = QuizAttempt(user_id=user_id, quiz_id=quiz.id, started_at=started, question_ids=_random.sample(bank, size),
                          deadline=started + timedelta(minutes=quiz.time_limit_minutes)
                          if quiz.time_limit_minutes else None, answers={}, results={}, status="open")
    db.session.add(attempt)
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent start won the race (partial unique index): resume that one
        db.session.rollback()
        return queries.open_attempt(user_id, quiz.id), True
    return attempt, False


def read_answers(attempt: QuizAttempt, questions: list[Question], form: MultiDict, *,
                 lenient: bool = False) -> dict[str, Any]:
    """Parse the posted sheet; raise InvalidAnswers with per-question messages and everything typed kept.

    `lenient` (time is up, so nothing can be corrected): unreadable answers count as unanswered instead."""
    wanted = {str(q.id) for q in questions}
    raw = {key[len(FIELD_PREFIX):]: form.getlist(key) for key in form if key.startswith(FIELD_PREFIX)}
    errors: dict[str, str] = {}
    if any(key not in wanted for key in raw):
        errors["_form"] = _("The form contained answers to questions that are not part of this attempt. "
                            "Reload the page and try again.")
    answers: dict[str, Any] = {}
    for question in questions:
        try:
            answers[str(question.id)] = parse_answer(question.kind, len(question.options or []),
                                                     raw.get(str(question.id), []))
        except AnswerError as error:
            errors[str(question.id)] = str(error)
            answers[str(question.id)] = None
    if errors and not lenient:
        raise InvalidAnswers(errors, {k: v for k, v in raw.items() if k in wanted})
    return answers


def submit_attempt(user_id: int, attempt: QuizAttempt, form: MultiDict) -> QuizAttempt:
    """Score on the server. Late (past deadline + grace) → expired with 0, answers ignored. Within the grace
    period (the page's timer submits at zero) unreadable answers score nothing rather than bounce the form."""
    if attempt.user_id != user_id:
        raise NotFound(_("There is no such attempt."))
    if attempt.status != "open":
        raise Conflict(_("This attempt was already submitted."))
    questions = queries.attempt_questions(attempt)
    if queries.is_overdue(attempt):
        _close(attempt, None, zero_score(questions), "expired")
        return attempt
    time_up = attempt.deadline is not None and clock.now() > attempt.deadline
    answers = read_answers(attempt, questions, form, lenient=time_up)
    _close(attempt, answers, score_attempt(questions, answers, attempt.quiz.pass_mark), "submitted")
    return attempt


def expire_overdue(user_id: int, quiz: Quiz) -> QuizAttempt | None:
    """An open attempt left past its deadline is closed as expired (scored 0) when the trainee next comes back."""
    attempt = queries.open_attempt(user_id, quiz.id)
    if attempt is None or not queries.is_overdue(attempt):
        return None
    questions = queries.attempt_questions(attempt)
    _close(attempt, None, zero_score(questions), "expired")
    return attempt


def _close(attempt: QuizAttempt, answers: dict[str, Any] | None, score: Score, status: str) -> None:
    if answers is not None:
        attempt.answers = answers
    attempt.results = score.results
    attempt.score, attempt.max_score = score.score, score.max_score
    attempt.percent, attempt.passed = score.percent, score.passed
    attempt.status = status
    attempt.submitted_at = clock.now()
    quiz = attempt.quiz
    record("quiz.submitted", f"quiz:{quiz.id}", actor_id=attempt.user_id, attempt_id=attempt.id,
           course_id=quiz.module.course_id, quiz_slug=quiz.slug, status=status, score=score.score,
           max_score=score.max_score, percent=score.percent, passed=score.passed)
    db.session.commit()
    _notify(attempt)


def _notify(attempt: QuizAttempt) -> None:
    """Signals go out after the grade is committed, so a failing listener can never lose the grade."""
    app = current_app._get_current_object()
    course_id = attempt.quiz.module.course_id
    try:
        signals.quiz_submitted.send(app, user_id=attempt.user_id, course_id=course_id, quiz_id=attempt.quiz_id,
                                    attempt_id=attempt.id, percent=attempt.percent, passed=attempt.passed)
        signals.progress_changed.send(app, user_id=attempt.user_id, course_id=course_id)
        db.session.commit()
    except Exception:  # a listener's bug must not turn a saved grade into an error page
        db.session.rollback()
        log.exception("a listener failed after quiz attempt %s was graded", attempt.id)
