"""Parsing and scoring of answers, done only on the server.

Rules (documented for course authors):
- single: the answer is the index of the correct option.
- multiple: the answer is the list of correct indexes; scoring is all-or-nothing (the chosen set must equal the
  correct set exactly), because partial credit on checkboxes rewards ticking everything.
- numeric: correct when |given - answer| <= tolerance (absolute, inclusive). Compared in decimal arithmetic so that
  edges such as 0.3 ± 0.1 behave as written, not as binary floats would.
- text: the accepted strings and the given one are compared after Unicode NFKC (full-width letters from Chinese
  input methods become ASCII), trimming, collapsing inner whitespace and case folding.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

KINDS = ("single", "multiple", "numeric", "text")
MAX_TEXT_LENGTH = 500
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,4})?$")


class AnswerError(ValueError):
    """The given answer cannot be read (not a number, option out of range...); message is translated."""


def normalise_text(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).split()).casefold()


def _option_index(raw: str, option_count: int) -> int:
    text = raw.strip()
    if not text.isdigit() or not 0 <= int(text) < option_count:
        raise AnswerError(_("Choose one of the options shown."))
    return int(text)


def parse_answer(kind: str, option_count: int, raw: list[str]) -> Any:
    """Turn the submitted form values for one question into the stored answer; None means unanswered."""
    values = [v for v in raw if v is not None]
    if kind == "single":
        if not values or not values[0].strip():
            return None
        if len(values) > 1:
            raise AnswerError(_("Choose only one option."))
        return _option_index(values[0], option_count)
    if kind == "multiple":
        chosen = sorted({_option_index(v, option_count) for v in values if v.strip()})
        return chosen or None
    text = values[0] if values else ""
    if len(values) > 1:
        raise AnswerError(_("Give a single answer."))
    if kind == "numeric":
        text = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
        if not text:
            return None
        if not _NUMBER.match(text):
            raise AnswerError(_("Enter a number, for example 12.5 (use a point for decimals)."))
        return text
    if kind == "text":
        if len(text) > MAX_TEXT_LENGTH:
            raise AnswerError(_("Keep the answer under %(count)d characters.", count=MAX_TEXT_LENGTH))
        return text.strip() or None
    raise AnswerError(_("This question cannot be answered."))


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))


def is_correct(kind: str, key: Any, tolerance: float, given: Any) -> bool:
    if given is None:
        return False
    if kind == "single":
        return int(given) == int(key)
    if kind == "multiple":
        return sorted(set(int(i) for i in given)) == sorted(set(int(i) for i in (key or [])))
    if kind == "numeric":
        try:
            return abs(_decimal(given) - _decimal(key)) <= abs(_decimal(tolerance or 0))
        except InvalidOperation:
            return False
    if kind == "text":
        accepted = key if isinstance(key, list) else [key]
        return normalise_text(str(given)) in {normalise_text(str(a)) for a in accepted}
    return False


@dataclass(frozen=True)
class Score:
    score: float
    max_score: float
    percent: float
    passed: bool
    results: dict[str, dict[str, Any]]


def answer_key(question: Any) -> Any:
    """The key; text questions also accept the answers given in their translations (any language counts)."""
    if question.kind != "text":
        return question.answer
    accepted = list(question.answer if isinstance(question.answer, list) else [question.answer])
    for entry in (question.translations or {}).values():
        if isinstance(entry, dict) and isinstance(entry.get("answer"), list):
            accepted.extend(entry["answer"])
    return accepted


def score_attempt(questions: list[Any], answers: dict[str, Any], pass_mark: float) -> Score:
    """`questions` are Question rows in attempt order; `answers` maps str(question id) to a parsed answer."""
    results: dict[str, dict[str, Any]] = {}
    total = possible = 0.0
    for question in questions:
        correct = is_correct(question.kind, answer_key(question), question.tolerance, answers.get(str(question.id)))
        points = float(question.points) if correct else 0.0
        results[str(question.id)] = {"correct": correct, "points": points, "max": float(question.points)}
        total += points
        possible += float(question.points)
    percent = round(100.0 * total / possible, 2) if possible else 0.0
    return Score(total, possible, percent, percent >= pass_mark, results)


def zero_score(questions: list[Any]) -> Score:
    """An expired attempt: every question counts as wrong."""
    results = {str(q.id): {"correct": False, "points": 0.0, "max": float(q.points)} for q in questions}
    return Score(0.0, sum(float(q.points) for q in questions), 0.0, False, results)
