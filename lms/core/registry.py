"""Small plug-in points between packages, so none reaches into another's tables.

- completion sources: grading registers `fn(user_id, course_slug) -> list[LabResult dict]` so the LMS can decide
  course completion; each dict: {"type": "lab", "slug", "title", "score", "max_score", "passed", "graded_at"}.
- gradebook columns: `fn(course_slug, user_ids) -> (columns: list[str], cells: {user_id: {column: value}})`.
- content fingerprints: scalar SQL expressions that change when a package's content rows change (e.g. a lab's
  points after a build); page and progress caches start again when any of them changes.
- launcher processes: each component names the long-running processes `make run` must start.
"""
from __future__ import annotations

from typing import Any, Callable

from flask import Flask, current_app

CompletionSource = Callable[[int, str], list[dict[str, Any]]]
GradebookColumns = Callable[[str, list[int]], tuple[list[str], dict[int, dict[str, Any]]]]


def register_completion_source(app: Flask, source: CompletionSource) -> None:
    app.extensions.setdefault("nia.completion_sources", []).append(source)


def completion_evidence(user_id: int, course_slug: str) -> list[dict[str, Any]]:
    evidence: list[dict[str, Any]] = []
    for source in current_app.extensions.get("nia.completion_sources", []):
        evidence.extend(source(user_id, course_slug))
    return evidence


def register_gradebook_columns(app: Flask, provider: GradebookColumns) -> None:
    app.extensions.setdefault("nia.gradebook_columns", []).append(provider)


def gradebook_columns(course_slug: str, user_ids: list[int]) -> list[tuple[list[str], dict[int, dict[str, Any]]]]:
    return [provider(course_slug, user_ids) for provider in current_app.extensions.get("nia.gradebook_columns", [])]


def register_content_fingerprint(app: Flask, *expressions: Any) -> None:
    app.extensions.setdefault("nia.content_fingerprints", []).extend(expressions)


def content_fingerprints() -> list[Any]:
    return list(current_app.extensions.get("nia.content_fingerprints", []))
