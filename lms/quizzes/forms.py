"""Forms. The answer sheet is dynamic (a random draw), so its fields are read by operations.read_answers;
the FlaskForm here carries the CSRF token for every quiz form."""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm


class QuizActionForm(FlaskForm):
    """Start, resume and submit buttons: no fields besides the CSRF token."""


class AnswerSheet:
    """What the attempt page shows: the trainee's typed values and per-question errors (never the key)."""

    def __init__(self, raw: dict[str, list[str]] | None = None, errors: dict[str, str] | None = None):
        self.raw = raw or {}
        self.errors = errors or {}

    def value(self, question_id: int) -> str:
        values = self.raw.get(str(question_id)) or [""]
        return values[0]

    def chosen(self, question_id: int) -> set[str]:
        return {v.strip() for v in self.raw.get(str(question_id), [])}

    def error(self, question_id: Any) -> str | None:
        return self.errors.get(str(question_id))
