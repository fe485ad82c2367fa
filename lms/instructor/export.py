"""Gradebook CSV. Cells a spreadsheet would run as a formula (= + - @, tab, CR) are prefixed with a quote."""
from __future__ import annotations

import csv
import io
from typing import Any

from flask_babel import gettext as _

from .queries import Gradebook

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def header(book: Gradebook) -> list[str]:
    cells = [_("Name"), _("Email"), _("Enrolled"), _("Status")]
    for quiz in book.quizzes:
        cells += [_("%(quiz)s: best %%", quiz=quiz.title), _("%(quiz)s: attempts", quiz=quiz.title),
                  _("%(quiz)s: passed", quiz=quiz.title)]
    return cells + list(book.extra_columns)


def gradebook_csv(book: Gradebook) -> str:
    """UTF-8 with a byte-order mark, so spreadsheet programs read Chinese names correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in header(book)])
    for row in book.rows:
        cells: list[Any] = [row["user"].name, row["user"].email,
                            row["enrolment"].enrolled_at.date().isoformat(), row["enrolment"].status]
        for quiz in book.quizzes:
            result = row["quiz"][quiz.id]
            cells += [result["best_percent"], result["attempts"], result["passed"] if result["attempts"] else None]
        cells += row["extra"]
        writer.writerow([safe_cell(c) for c in cells])
    return "\ufeff" + out.getvalue()
