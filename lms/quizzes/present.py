"""View models for quiz pages. The attempt page gets only prompts and options, so no template can leak the key."""
from __future__ import annotations

from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _

from ..models import Question, QuizAttempt
from .queries import localised


def sheet_questions(questions: list[Question]) -> list[dict[str, Any]]:
    """What a trainee needs to answer: no answer, tolerance or explanation."""
    return [{"id": q.id, "kind": q.kind, "prompt": localised(q, "prompt"), "options": localised(q, "options") or [],
             "points": q.points} for q in questions]


def _describe(question: Question, value: Any, options: list[str]) -> str:
    if value is None or value == [] or value == "":
        return _("(no answer)")
    if question.kind == "single":
        index = int(value)
        return options[index] if 0 <= index < len(options) else str(value)
    if question.kind == "multiple":
        return "; ".join(options[int(i)] for i in value if 0 <= int(i) < len(options))
    if question.kind == "numeric":
        return str(value)
    return str(value)


def _key(question: Question, options: list[str]) -> str:
    if question.kind == "numeric":
        if question.tolerance:
            return _("%(answer)s (± %(tolerance)s)", answer=format_decimal(question.answer),
                     tolerance=format_decimal(question.tolerance))
        return format_decimal(question.answer)
    if question.kind == "text":
        accepted = localised(question, "answer")
        accepted = accepted if isinstance(accepted, list) else [accepted]
        return " / ".join(str(a) for a in accepted)
    return _describe(question, question.answer, options)


def reviewed_questions(attempt: QuizAttempt, questions: list[Question]) -> list[dict[str, Any]]:
    """After submission: the trainee's answer, the correct one and the explanation."""
    review = []
    for q in questions:
        options = localised(q, "options") or []
        result = (attempt.results or {}).get(str(q.id), {})
        review.append({"id": q.id, "kind": q.kind, "prompt": localised(q, "prompt"), "options": options,
                       "given": _describe(q, (attempt.answers or {}).get(str(q.id)), options),
                       "key": _key(q, options), "explanation": localised(q, "explanation"),
                       "correct": bool(result.get("correct")), "points": result.get("points", 0.0),
                       "max": result.get("max", q.points)})
    return review
