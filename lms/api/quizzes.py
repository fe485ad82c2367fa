"""Quiz attempts through the API: start, read, submit. Scoring and rules live in lms.quizzes (server-side key)."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from ..quizzes import operations, queries
from ..quizzes.operations import FIELD_PREFIX, InvalidAnswers
from .auth import ApiBlueprint, api_user
from .errors import unprocessable
from .schemas import AttemptSchema, AttemptSummarySchema, SubmitRequestSchema

blp = ApiBlueprint("quiz-attempts", __name__, url_prefix="/api/v1",
                   description="Quiz attempts of the authenticated user (answers are scored on the server)")

_CLOSED = queries.CLOSED


def _summary(attempt) -> dict[str, Any]:
    closed = attempt.status in _CLOSED
    return {"id": attempt.id, "quiz_id": attempt.quiz_id, "status": attempt.status,
            "started_at": attempt.started_at, "deadline": attempt.deadline, "submitted_at": attempt.submitted_at,
            "score": attempt.score if closed else None, "max_score": attempt.max_score if closed else None,
            "percent": attempt.percent if closed else None, "passed": attempt.passed if closed else None}


def _question(question) -> dict[str, Any]:
    return {"id": question.id, "kind": question.kind, "prompt": queries.localised(question, "prompt"),
            "options": list(queries.localised(question, "options") or []), "points": float(question.points)}


def _detail(attempt) -> dict[str, Any]:
    body = _summary(attempt)
    questions = queries.attempt_questions(attempt)
    if attempt.status in _CLOSED:
        results = attempt.results or {}
        answers = attempt.answers or {}
        body["results"] = [
            {**_question(q), "given": answers.get(str(q.id)),
             "correct": bool(results.get(str(q.id), {}).get("correct")),
             "points_awarded": float(results.get(str(q.id), {}).get("points", 0.0)),
             "explanation": queries.localised(q, "explanation") or ""}
            for q in questions]
    else:
        body["seconds_left"] = queries.seconds_left(attempt)
        body["questions"] = [_question(q) for q in questions]
    return body


def _as_form(answers: dict[str, Any]) -> MultiDict:
    """JSON answers -> the q-<id> form fields lms.quizzes reads, so both doors share one parser and scorer."""
    form: MultiDict = MultiDict()
    errors: dict[str, list[str]] = {}
    for key, value in answers.items():
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, (bool, dict, list)) or not isinstance(v, (int, float, str)) for v in values):
            errors[key] = [_("Use an option index, a list of indexes, a number or a string.")]
            continue
        for item in values:
            form.add(f"{FIELD_PREFIX}{key}", str(item))
    if errors:
        unprocessable({"json": {"answers": errors}})
    return form


@blp.route("/quizzes/<int:quiz_id>/attempts", methods=["GET"])
@blp.auth_required()
@blp.response(200, AttemptSummarySchema(many=True))
@blp.alt_response(404, response="NOT_FOUND")
def list_attempts(quiz_id: int):
    """My attempts at a quiz, oldest first."""
    quiz = queries.get_quiz_or_404(quiz_id)
    return [_summary(a) for a in queries.attempts(api_user().id, quiz.id)]


@blp.route("/quizzes/<int:quiz_id>/attempts", methods=["POST"])
@blp.auth_required()
@blp.response(201, AttemptSchema, description="A new attempt with its randomly drawn questions (no answers)")
@blp.alt_response(200, schema=AttemptSchema, description="The attempt already open, resumed", success=True)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def start_attempt(quiz_id: int):
    """Start an attempt (or resume the open one): enrolment, prerequisites and attempt limit apply."""
    quiz = queries.get_quiz_or_404(quiz_id)
    attempt, resumed = operations.start_attempt(api_user().id, quiz)
    return _detail(attempt), (200 if resumed else 201)


@blp.route("/attempts/<int:attempt_id>", methods=["GET"])
@blp.auth_required()
@blp.response(200, AttemptSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_attempt(attempt_id: int):
    """One of my attempts: questions while open; score, outcome and explanations once closed."""
    attempt = queries.own_attempt_or_404(attempt_id, api_user().id)
    if attempt.status == "open":
        operations.expire_overdue(api_user().id, attempt.quiz)
    return _detail(attempt)


@blp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@blp.auth_required()
@blp.arguments(SubmitRequestSchema)
@blp.response(200, AttemptSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def submit_attempt(payload: dict, attempt_id: int):
    """Submit answers; the response has the score and per-question explanations. Late attempts are expired."""
    attempt = queries.own_attempt_or_404(attempt_id, api_user().id)
    form = _as_form(payload["answers"])
    try:
        operations.submit_attempt(api_user().id, attempt, form)
    except InvalidAnswers as error:
        unprocessable({"json": {"answers": {key: [message] for key, message in error.errors.items()}}})
    return _detail(attempt)
