"""Progress documents built from lms.learning's course_progress and lms.quizzes' quiz_results."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from ..learning import queries as learning
from ..models import Course
from ..quizzes import queries as quizzes

_COUNTS = ("enrolled", "status", "percent", "lessons_done", "lessons_total", "quizzes_passed", "quizzes_total",
           "labs_passed", "labs_total")


def progress_entry(user_id: int, course: Course) -> dict[str, Any]:
    progress = learning.course_progress(user_id, course)
    completed = progress.get("completed_at")
    return {"course": course.slug, "title": learning.tr(course, "title"),
            **{key: progress.get(key) for key in _COUNTS},
            "completed_at": datetime.fromisoformat(completed) if isinstance(completed, str) else completed,
            "modules": [{"slug": m["slug"], "done": m["done"], "unlocked": m["unlocked"], "missing": m["missing"]}
                        for m in progress.get("modules", [])],
            "quizzes": quizzes.quiz_results(user_id, course.id)}
