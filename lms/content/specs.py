"""Validated course content, independent of the database (what the importer writes)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class QuestionSpec:
    key: str
    kind: str
    prompt: str
    options: list[str]
    answer: Any
    tolerance: float
    explanation: str
    points: float
    translations: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class QuizSpec:
    slug: str
    title: str
    draw: int
    attempts: int | None
    pass_mark: float
    time_limit_minutes: int | None
    questions: list[QuestionSpec]
    translations: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class LessonSpec:
    slug: str
    title: str
    minutes: int
    body_markdown: str
    body_html: str
    translations: dict[str, dict[str, Any]] = field(default_factory=dict)  # locale -> {title, minutes, body_html}


@dataclass
class ModuleSpec:
    slug: str
    title: str
    summary: str
    prerequisites: list[str]
    lessons: list[LessonSpec]
    quizzes: list[QuizSpec]
    labs: list[str]
    translations: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class CourseSpec:
    slug: str
    directory: Path
    title: str
    summary: str
    level: str
    hours: float
    prerequisites: list[str]
    prerequisite_lines: dict[str, int]
    recertify_months: int | None
    achievement: dict[str, Any]
    completion: dict[str, Any]
    modules: list[ModuleSpec]
    assets: set[str]
    content_hash: str
    translations: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def course_file(self) -> str:
        return str(self.directory / "course.yaml")

    def counts(self) -> dict[str, int]:
        return {"modules": len(self.modules), "lessons": sum(len(m.lessons) for m in self.modules),
                "quizzes": sum(len(m.quizzes) for m in self.modules),
                "questions": sum(len(q.questions) for m in self.modules for q in m.quizzes),
                "labs": sum(len(m.labs) for m in self.modules)}
