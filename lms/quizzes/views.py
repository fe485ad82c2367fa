"""Quiz pages: intro, start/resume, the answer sheet, submit, and the reviewed result."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.decorators import trainee_required
from ..core.exceptions import Conflict, NotAllowed
from . import operations, present, queries
from .forms import AnswerSheet, QuizActionForm

bp = Blueprint("quizzes", __name__, url_prefix="/quizzes", static_folder="static", static_url_path="/static")


def quiz_access(view):
    """Loads the quiz (404) and lets in only trainees enrolled in its course with the module unlocked (403)."""

    @wraps(view)
    @trainee_required
    def wrapped(quiz_id: int, **kwargs):
        quiz = queries.get_quiz_or_404(quiz_id)
        try:
            operations.check_access(current_user.id, quiz)
        except NotAllowed as error:
            return render_template("core/error.html", status=403, title=_("Not allowed"),
                                   message=error.message), 403
        return view(quiz, **kwargs)

    return wrapped


def own_attempt(view):
    """Only the trainee who made an attempt may see it; for anyone else it does not exist (404)."""

    @wraps(view)
    @trainee_required
    def wrapped(attempt_id: int, **kwargs):
        return view(queries.own_attempt_or_404(attempt_id, current_user.id), **kwargs)

    return wrapped


@bp.get("/")
@trainee_required
def index():
    return render_template("quizzes/index.html", courses=queries.my_quizzes(current_user.id))


@bp.get("/<int:quiz_id>")
@quiz_access
def quiz(quiz):
    if operations.expire_overdue(current_user.id, quiz):
        flash(_("Your last attempt ran out of time and was scored 0."), "error")
    attempts = queries.attempts(current_user.id, quiz.id)
    closed = [a for a in attempts if a.status != "open"]
    return render_template("quizzes/quiz.html", quiz=quiz, attempts=closed, form=QuizActionForm(),
                           open_attempt=next((a for a in attempts if a.status == "open"), None),
                           best=max((a.percent for a in closed), default=None),
                           left=queries.attempts_left(quiz, len(attempts)), title=queries.localised(quiz, "title"))


@bp.post("/<int:quiz_id>/start")
@quiz_access
def start(quiz):
    try:
        attempt, resumed = operations.start_attempt(current_user.id, quiz)
    except Conflict as error:
        flash(error.message, "error")
        return redirect(url_for(".quiz", quiz_id=quiz.id))
    if resumed:
        flash(_("You already have an attempt in progress: continue it below."), "info")
    return redirect(url_for(".attempt", attempt_id=attempt.id))


def _sheet(attempt, sheet: AnswerSheet, status: int = 200):
    questions = present.sheet_questions(queries.attempt_questions(attempt))
    return render_template("quizzes/attempt.html", attempt=attempt, quiz=attempt.quiz, questions=questions,
                           sheet=sheet, form=QuizActionForm(), seconds_left=queries.seconds_left(attempt),
                           title=queries.localised(attempt.quiz, "title")), status


@bp.get("/attempts/<int:attempt_id>")
@own_attempt
def attempt(attempt):
    if attempt.status == "open" and operations.expire_overdue(attempt.user_id, attempt.quiz):
        flash(_("Time ran out for this attempt. It was scored 0."), "error")
    if attempt.status != "open":
        return redirect(url_for(".result", attempt_id=attempt.id))
    return _sheet(attempt, AnswerSheet())


@bp.post("/attempts/<int:attempt_id>")
@own_attempt
def submit(attempt):
    try:
        operations.submit_attempt(current_user.id, attempt, request.form)
    except operations.InvalidAnswers as invalid:
        flash(_("Some answers could not be read. Correct the marked questions and submit again."), "error")
        return _sheet(attempt, AnswerSheet(invalid.raw, invalid.errors), 400)
    except Conflict as error:
        flash(error.message, "error")
    if attempt.status == "expired":
        flash(_("This attempt was submitted after the time limit, so it was scored 0."), "error")
    return redirect(url_for(".result", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>/result")
@own_attempt
def result(attempt):
    if attempt.status == "open":
        return redirect(url_for(".attempt", attempt_id=attempt.id))
    review = present.reviewed_questions(attempt, queries.attempt_questions(attempt))
    return render_template("quizzes/result.html", attempt=attempt, quiz=attempt.quiz, review=review,
                           title=queries.localised(attempt.quiz, "title"))
