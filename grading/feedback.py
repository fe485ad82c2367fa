"""Per-cell scores from the run's gradebook, and feedback safe to show a trainee.

Hidden tests are removed from the source AND their tracebacks are dropped (a traceback prints the failing
hidden line). Outputs are kept as plain text only (never trainee HTML), ANSI codes stripped, sizes capped.
"""
from __future__ import annotations

import re
from typing import Any

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.S | re.M)
MAX_TEXT = 8_000


def _clean(text: Any) -> str:
    if isinstance(text, list):
        text = "".join(text)
    text = ANSI.sub("", str(text or ""))
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + f"\n[… {len(text) - MAX_TEXT:,} more characters not shown]"
    return text


def cell_results(db_url: str, course: str, lab: str, student: str, notebooks: dict[str, Any]) -> list[dict]:
    from nbgrader.api import Gradebook, MissingEntry

    results: list[dict[str, Any]] = []
    with Gradebook(db_url, course) as gb:
        for name, nb in notebooks.items():
            errors = {}
            for cell in nb.cells:
                meta = cell.metadata.get("nbgrader", {})
                if meta.get("grade"):
                    errors[meta.get("grade_id")] = next(
                        (f"{o.get('ename')}: {_clean(o.get('evalue'))[:300]}" for o in cell.get("outputs", [])
                         if o.get("output_type") == "error"), "")
            try:
                submission = gb.find_submission_notebook(name, lab, student)
            except MissingEntry:
                continue
            for grade in sorted(submission.grades, key=lambda g: g.cell.name):
                auto = grade.auto_score
                results.append({"notebook": name, "grade_id": grade.cell.name,
                                "score": float(auto or 0.0), "max_score": float(grade.max_score or 0.0),
                                "manual": bool(grade.needs_manual_grade and auto is None),
                                "error": errors.get(grade.cell.name, "")})
    order = {}
    for name, nb in notebooks.items():
        for i, cell in enumerate(nb.cells):
            order[(name, cell.metadata.get("nbgrader", {}).get("grade_id"))] = i
    results.sort(key=lambda r: (r["notebook"], order.get((r["notebook"], r["grade_id"]), 10**6)))
    return results


def _outputs(cell, hidden: bool) -> list[dict[str, str]]:
    shown = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            shown.append({"kind": "stream", "text": _clean(out.get("text"))})
        elif kind == "error":
            head = f"{out.get('ename')}: {_clean(out.get('evalue'))}"
            if hidden:
                shown.append({"kind": "error", "text": head})
            else:
                shown.append({"kind": "error", "text": _clean("\n".join(out.get("traceback") or [head]))})
        elif kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            if "image/png" in data and isinstance(data["image/png"], str) and len(data["image/png"]) < 2_000_000:
                shown.append({"kind": "image", "text": data["image/png"].replace("\n", "")})
            elif "text/plain" in data:
                shown.append({"kind": "result", "text": _clean(data["text/plain"])})
    return shown


def sanitised_feedback(notebooks: dict[str, Any], cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    scores = {(c["notebook"], c["grade_id"]): c for c in cells}
    feedback: list[dict[str, Any]] = []
    for name, nb in notebooks.items():
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            source = "".join(cell.source) if isinstance(cell.source, list) else cell.source
            hidden = "BEGIN HIDDEN TESTS" in source
            if hidden:
                source = HIDDEN.sub("# (hidden tests)\n", source)
            entry: dict[str, Any] = {"notebook": name, "type": cell.cell_type, "source": _clean(source),
                                     "hidden": hidden, "grade_id": meta.get("grade_id")}
            if cell.cell_type == "code":
                entry["outputs"] = _outputs(cell, hidden)
            score = scores.get((name, meta.get("grade_id"))) if meta.get("grade") else None
            if score:
                entry["score"], entry["max_score"] = score["score"], score["max_score"]
            feedback.append(entry)
    return feedback
