"""Write validated course content to the database in one transaction.

Rows are matched by slug (course), slug within the course (modules, lessons, quizzes) and question id, and
updated in place, so enrolments, lesson completions and quiz attempts survive a re-import. Content that
disappeared from the files is deleted only when no learner data refers to it; otherwise it is archived.
"""
from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ..core.exceptions import UserError
from ..extensions import db
from ..models import Course, Lesson, LessonCompletion, Module, Question, Quiz, QuizAttempt
from ..models._types import utcnow
from .. import signals
from .specs import CourseSpec, ModuleSpec, QuizSpec
from .validator import load_courses
from .yamlload import ContentError


class ContentInvalid(Exception):
    """The files have errors; nothing was written."""

    def __init__(self, errors: list[ContentError]):
        super().__init__(f"{len(errors)} error(s) in course content")
        self.errors = errors


class ImportAborted(Exception):
    """A receiver of course_imported (e.g. lab import) refused the content; nothing was written."""


@dataclass
class ImportResult:
    courses: list[tuple[str, str, dict[str, int]]] = field(default_factory=list)  # (slug, created|updated, counts)
    archived: list[str] = field(default_factory=list)


def assets_root(app=None) -> Path:
    """Imported course assets live under the instance folder, one directory per course slug."""
    return Path((app or current_app).instance_path) / "course_assets"


def _locales() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def known_courses() -> dict[str, list[str]]:
    return {slug: list(prereqs or []) for slug, prereqs in db.session.execute(select(Course.slug,
                                                                                       Course.prerequisites))}


def validate(path: Path) -> list[CourseSpec]:
    """Parse and check; raises ContentInvalid. Reads the database (known courses) but never writes."""
    specs, errors = load_courses(Path(path), _locales(), known_courses())
    if errors:
        raise ContentInvalid(errors)
    return specs


def import_courses(path: Path) -> ImportResult:
    path = Path(path)
    specs = validate(path)
    whole_tree = not (path / "course.yaml").is_file() and path.name != "course.yaml"
    result = ImportResult()
    staged: list[tuple[str, Path]] = []
    try:
        now = utcnow()
        for position, spec in enumerate(specs):
            course, action = _apply_course(spec, position if whole_tree else None, now)
            db.session.flush()
            signals.course_imported.send(current_app._get_current_object(), course_dir=spec.directory,
                                         course=course, session=db.session)
            result.courses.append((spec.slug, action, spec.counts()))
        if whole_tree:
            imported = {spec.slug for spec in specs}
            for course in db.session.scalars(select(Course).where(Course.archived.is_(False))):
                if course.slug not in imported:
                    course.archived = True
                    result.archived.append(course.slug)
        staged = [(spec.slug, _stage_assets(spec)) for spec in specs]
        db.session.commit()
    except UserError as error:
        db.session.rollback()
        _discard(staged)
        raise ImportAborted(error.message) from error
    except BaseException:
        db.session.rollback()
        _discard(staged)
        raise
    for slug, staging in staged:
        _swap_assets(slug, staging)
    return result


def _apply_course(spec: CourseSpec, position: int | None, now) -> tuple[Course, str]:
    course = db.session.scalar(select(Course).where(Course.slug == spec.slug))
    action = "updated" if course is not None else "created"
    if course is None:
        course = Course(slug=spec.slug)
        db.session.add(course)
    course.title, course.summary, course.level, course.hours = spec.title, spec.summary, spec.level, spec.hours
    course.prerequisites, course.completion = list(spec.prerequisites), dict(spec.completion)
    course.achievement, course.translations = dict(spec.achievement), dict(spec.translations)
    course.recertify_months, course.archived = spec.recertify_months, False
    course.content_hash, course.imported_at = spec.content_hash, now
    if position is not None:
        course.position = position
    lesson_ids = [lesson.id for m in course.modules for lesson in m.lessons if lesson.id]
    quiz_ids = [quiz.id for m in course.modules for quiz in m.quizzes if quiz.id]
    used_lessons = set(db.session.scalars(select(LessonCompletion.lesson_id).distinct().where(
        LessonCompletion.lesson_id.in_(lesson_ids)))) if lesson_ids else set()
    used_quizzes = set(db.session.scalars(select(QuizAttempt.quiz_id).distinct().where(
        QuizAttempt.quiz_id.in_(quiz_ids)))) if quiz_ids else set()
    modules = {m.slug: m for m in course.modules}
    lessons = {lesson.slug: lesson for m in course.modules for lesson in m.lessons}
    quizzes = {quiz.slug: quiz for m in course.modules for quiz in m.quizzes}
    for index, module_spec in enumerate(spec.modules):
        module = modules.pop(module_spec.slug, None)
        if module is None:
            module = Module(slug=module_spec.slug)
            course.modules.append(module)
        _apply_module(module, module_spec, index, lessons, quizzes, used_quizzes)
    for lesson in lessons.values():  # no longer in the files
        if lesson.id in used_lessons:
            lesson.archived = True
        else:
            lesson.module.lessons.remove(lesson)
    for quiz in quizzes.values():
        if quiz.id in used_quizzes:
            quiz.archived = True
        else:
            quiz.module.quizzes.remove(quiz)
    for module in modules.values():
        if module.lessons or module.quizzes:  # only archived children with learner data are left
            module.archived = True
            for child in [*module.lessons, *module.quizzes]:
                child.archived = True
        else:
            course.modules.remove(module)
    return course, action


def _attach(child: Lesson | Quiz, module: Module, collection: str) -> None:
    """Put a lesson or quiz in `module`; a re-import may move it from another module of the course."""
    if child.module is not module:
        if child.module is not None:
            getattr(child.module, collection).remove(child)
        getattr(module, collection).append(child)


def _apply_module(module: Module, spec: ModuleSpec, position: int, lessons: dict[str, Lesson],
                  quizzes: dict[str, Quiz], used_quizzes: set[int]) -> None:
    module.title, module.summary, module.position = spec.title, spec.summary, position
    module.prerequisites, module.labs = list(spec.prerequisites), list(spec.labs)
    module.translations, module.archived = dict(spec.translations), False
    for index, lesson_spec in enumerate(spec.lessons):
        lesson = lessons.pop(lesson_spec.slug, None)
        if lesson is None:
            lesson = Lesson(slug=lesson_spec.slug)
        _attach(lesson, module, "lessons")
        lesson.title, lesson.position, lesson.minutes = lesson_spec.title, index, lesson_spec.minutes
        lesson.body_markdown, lesson.body_html = lesson_spec.body_markdown, lesson_spec.body_html
        lesson.translations, lesson.archived = dict(lesson_spec.translations), False
    for index, quiz_spec in enumerate(spec.quizzes):
        quiz = quizzes.pop(quiz_spec.slug, None)
        if quiz is None:
            quiz = Quiz(slug=quiz_spec.slug)
        _attach(quiz, module, "quizzes")
        _apply_quiz(quiz, quiz_spec, index, quiz.id in used_quizzes if quiz.id else False)


def _apply_quiz(quiz: Quiz, spec: QuizSpec, position: int, has_attempts: bool) -> None:
    quiz.title, quiz.position, quiz.draw_count = spec.title, position, spec.draw
    quiz.attempt_limit, quiz.pass_mark, quiz.time_limit_minutes = spec.attempts, spec.pass_mark, \
        spec.time_limit_minutes
    quiz.translations, quiz.archived = dict(spec.translations), False
    existing = {q.key: q for q in quiz.questions}
    for index, q in enumerate(spec.questions):
        question = existing.pop(q.key, None)
        if question is None:
            question = Question(key=q.key)
            quiz.questions.append(question)
        question.kind, question.prompt, question.options, question.answer = q.kind, q.prompt, list(q.options), \
            q.answer
        question.tolerance, question.explanation, question.points = q.tolerance, q.explanation, q.points
        question.position, question.translations, question.archived = index, dict(q.translations), False
    for question in existing.values():  # removed from the bank
        if has_attempts:
            question.archived = True
        else:
            quiz.questions.remove(question)


def _stage_assets(spec: CourseSpec) -> Path:
    root = assets_root()
    staging = root / f".staging-{spec.slug}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    for relative in sorted(spec.assets):
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(spec.directory / "assets" / relative, target)
    return staging


def _discard(staged: list[tuple[str, Path]]) -> None:
    for _slug, staging in staged:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_assets(slug: str, staging: Path) -> None:
    final = assets_root() / slug
    old = final.with_name(f".old-{slug}-{uuid.uuid4().hex[:8]}")
    if final.exists():
        final.rename(old)
    staging.rename(final)
    shutil.rmtree(old, ignore_errors=True)
