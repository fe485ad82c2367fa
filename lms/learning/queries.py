"""Reads about courses and learner progress; other packages use course_progress, course_info, is_enrolled and
enrolled_user_ids instead of reading the learning tables themselves."""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import get_locale
from sqlalchemy import bindparam, func, literal, null, select, union_all

from ..core import registry
from ..extensions import db
from ..models import Course, Enrolment, Lesson, LessonCompletion, Module, Quiz, QuizAttempt
from . import outline
from .progress_cache import cached_progress

ACTIVE_STATUSES = ("active", "completed")


def locale() -> str:
    try:
        return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    except (RuntimeError, KeyError):
        return "en"


def tr(obj: Any, field: str, lang: str | None = None) -> Any:
    """A content field in the current locale, falling back to English."""
    translations = getattr(obj, "translations", None) if not isinstance(obj, dict) else obj.get("translations")
    value = ((translations or {}).get(lang or locale()) or {}).get(field)
    if value not in (None, ""):
        return value
    return obj.get(field) if isinstance(obj, dict) else getattr(obj, field, None)


def catalog(include_archived: bool = False) -> list[Course]:
    query = select(Course).order_by(Course.position, Course.title)
    if not include_archived:
        query = query.where(Course.archived.is_(False))
    return list(db.session.scalars(query))


def course_by_slug(slug: str) -> Course | None:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def course_for_reading(slug: str):
    """The course as a shared read-only snapshot when it was imported (the usual case), else its row."""
    return outline.course_view(slug) or course_by_slug(slug)


def all_modules(course: Course) -> list:
    """Every module in order (archived too): the cached snapshot of imported content, else the relationship."""
    cached = outline.modules(course)
    return cached if cached is not None else list(course.modules)


def active_modules(course: Course) -> list[Module]:
    return [m for m in all_modules(course) if not m.archived]


def active_lessons(module: Module) -> list[Lesson]:
    return [lesson for lesson in module.lessons if not lesson.archived]


def active_quizzes(module: Module) -> list[Quiz]:
    return [quiz for quiz in module.quizzes if not quiz.archived]


def lesson_by_slug(course: Course, slug: str) -> Lesson | None:
    for module in active_modules(course):
        for lesson in active_lessons(module):
            if lesson.slug == slug:
                return lesson
    return None


def enrolment_for(user_id: int, course_id: int) -> Enrolment | None:
    return db.session.scalar(select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.course_id == course_id))


def is_enrolled(user_id: int, course_slug: str) -> bool:
    return db.session.scalar(select(func.count(Enrolment.id)).join(Course).where(
        Enrolment.user_id == user_id, Course.slug == course_slug, Enrolment.status.in_(ACTIVE_STATUSES))) > 0


def enrolled_user_ids(course_id: int) -> list[int]:
    return list(db.session.scalars(select(Enrolment.user_id).where(
        Enrolment.course_id == course_id, Enrolment.status.in_(ACTIVE_STATUSES)).order_by(Enrolment.user_id)))


def user_enrolments(user_id: int) -> list[Enrolment]:
    return list(db.session.scalars(select(Enrolment).join(Course).where(
        Enrolment.user_id == user_id, Enrolment.status.in_(ACTIVE_STATUSES)).order_by(Enrolment.enrolled_at)))


def completed_course_slugs(user_id: int) -> set[str]:
    return set(db.session.scalars(select(Course.slug).join(Enrolment, Enrolment.course_id == Course.id).where(
        Enrolment.user_id == user_id, Enrolment.completed_at.is_not(None))))


def missing_course_prerequisites(user_id: int | None, course: Course) -> list[Course | str]:
    """Prerequisite courses not yet completed (Course rows, or bare slugs if a course has vanished)."""
    done = completed_course_slugs(user_id) if user_id else set()
    missing: list[Course | str] = []
    for slug in course.prerequisites or []:
        if slug not in done:
            missing.append(course_by_slug(slug) or slug)
    return missing


def done_lesson_ids(user_id: int, lesson_ids: list[int]) -> set[int]:
    if not lesson_ids:
        return set()
    return set(db.session.scalars(select(LessonCompletion.lesson_id).where(
        LessonCompletion.user_id == user_id, LessonCompletion.lesson_id.in_(lesson_ids))))


def passed_quiz_ids(user_id: int, quiz_ids: list[int]) -> set[int]:
    """A quiz counts as passed when any attempt passed."""
    if not quiz_ids:
        return set()
    return set(db.session.scalars(select(QuizAttempt.quiz_id).distinct().where(
        QuizAttempt.user_id == user_id, QuizAttempt.quiz_id.in_(quiz_ids), QuizAttempt.passed.is_(True))))


def best_quiz_attempts(user_id: int, quiz_ids: list[int]) -> dict[int, QuizAttempt]:
    best: dict[int, QuizAttempt] = {}
    if not quiz_ids:
        return best
    for attempt in db.session.scalars(select(QuizAttempt).where(
            QuizAttempt.user_id == user_id, QuizAttempt.quiz_id.in_(quiz_ids), QuizAttempt.passed.is_(True))):
        if attempt.quiz_id not in best or attempt.percent > best[attempt.quiz_id].percent:
            best[attempt.quiz_id] = attempt
    return best


def lab_results(user_id: int, course_slug: str) -> dict[str, dict[str, Any]]:
    """Best result per lab slug from the registered completion sources (grading)."""
    best: dict[str, dict[str, Any]] = {}
    for result in registry.completion_evidence(user_id, course_slug):
        slug = result.get("slug")
        if result.get("type", "lab") != "lab" or not slug:
            continue
        current = best.get(slug)
        key = (bool(result.get("passed")), _ratio(result))
        if current is None or key > (bool(current.get("passed")), _ratio(current)):
            best[slug] = result
    return best


def _ratio(result: dict[str, Any]) -> float:
    maximum = float(result.get("max_score") or 0)
    return float(result.get("score") or 0) / maximum if maximum else 0.0


def required(course: Course) -> tuple[list[Lesson], list[Quiz], list[str]]:
    """Lessons, quizzes and lab slugs the course's completion criteria ask for."""
    criteria = course.completion or {}
    modules = active_modules(course)
    lessons = [lesson for m in modules for lesson in active_lessons(m)] \
        if criteria.get("lessons", "all") == "all" else []
    quizzes = [q for m in modules for q in active_quizzes(m)]
    labs = [lab for m in modules for lab in (m.labs or [])]
    return lessons, _pick(quizzes, criteria.get("quizzes", "all"), lambda q: q.slug), \
        _pick(labs, criteria.get("labs", "all"), lambda lab: lab)


def _pick(items: list, rule: Any, slug_of) -> list:
    if rule == "all":
        return items
    if isinstance(rule, list):
        return [item for item in items if slug_of(item) in rule]
    return []


def course_progress(user_id: int, course: Course) -> dict[str, Any]:
    """Progress of one learner in one course (JSON-friendly; the signed-in learner's may be shared: do not modify)."""
    return cached_progress(user_id, course, _compute_course_progress)


def _compute_course_progress(user_id: int, course: Course) -> dict[str, Any]:
    modules = active_modules(course)
    all_lessons = [lesson for m in modules for lesson in active_lessons(m)]
    all_quizzes = [q for m in modules for q in active_quizzes(m)]
    done, passed, enrolment = _learner_rows(user_id, course.id, [lesson.id for lesson in all_lessons],
                                            [q.id for q in all_quizzes])
    has_labs = any(m.labs for m in modules)
    labs = lab_results(user_id, course.slug) if has_labs else {}
    passed_labs = {slug for slug, result in labs.items() if result.get("passed")}
    need_lessons, need_quizzes, need_labs = required(course)
    done_required = (sum(lesson.id in done for lesson in need_lessons) + sum(q.id in passed for q in need_quizzes)
                     + sum(lab in passed_labs for lab in need_labs))
    total_required = len(need_lessons) + len(need_quizzes) + len(need_labs)
    module_done = {m.slug: all(lesson.id in done for lesson in active_lessons(m))
                   and all(q.id in passed for q in active_quizzes(m)) and all(lab in passed_labs for lab in m.labs)
                   for m in modules}
    entries = [_module_entry(m, module_done) for m in modules]
    status, completed_at = enrolment
    return {
        "course_id": course.id, "course_slug": course.slug,
        "enrolled": status in ACTIVE_STATUSES,
        "status": status,
        "completed_at": completed_at.isoformat() if completed_at else None,
        "lessons_done": len(done), "lessons_total": len(all_lessons),
        "quizzes_passed": len(passed), "quizzes_total": len(all_quizzes),
        "labs_passed": len(passed_labs), "labs_total": sum(len(m.labs or []) for m in modules),
        "required_done": done_required, "required_total": total_required,
        "percent": round(100.0 * done_required / total_required, 1) if total_required else
        (100.0 if completed_at else 0.0),
        "criteria_met": done_required == total_required,
        "done_lesson_ids": sorted(done), "passed_quiz_ids": sorted(passed), "passed_labs": sorted(passed_labs),
        "modules": entries,
        "next_lesson": next((lesson.slug for m, entry in zip(modules, entries) if entry["unlocked"]
                             for lesson in active_lessons(m) if lesson.id not in done), None),
    }


def _learner_statement(lessons: bool, quizzes: bool):
    """Built once per shape (statement construction costs more than running it on SQLite)."""
    key = (lessons, quizzes)
    if key not in _LEARNER_STATEMENTS:
        user, course = bindparam("user_id"), bindparam("course_id")
        parts = [select(literal("e"), Enrolment.id, Enrolment.status, Enrolment.completed_at).where(
            Enrolment.user_id == user, Enrolment.course_id == course)]  # first: it types the columns
        if lessons:
            parts.append(select(literal("l"), LessonCompletion.lesson_id, null(), null()).where(
                LessonCompletion.user_id == user,
                LessonCompletion.lesson_id.in_(bindparam("lesson_ids", expanding=True))))
        if quizzes:
            parts.append(select(literal("q"), QuizAttempt.quiz_id, null(), null()).where(
                QuizAttempt.user_id == user, QuizAttempt.quiz_id.in_(bindparam("quiz_ids", expanding=True)),
                QuizAttempt.passed.is_(True)))
        _LEARNER_STATEMENTS[key] = union_all(*parts) if len(parts) > 1 else parts[0]
    return _LEARNER_STATEMENTS[key]


_LEARNER_STATEMENTS: dict[tuple[bool, bool], Any] = {}


def _learner_rows(user_id: int, course_id: int, lesson_ids: list[int], quiz_ids: list[int]):
    """(done lesson ids, passed quiz ids, (enrolment status, completed_at)) in one round trip."""
    params: dict[str, Any] = {"user_id": user_id, "course_id": course_id}
    if lesson_ids:
        params["lesson_ids"] = lesson_ids
    if quiz_ids:
        params["quiz_ids"] = quiz_ids
    done: set[int] = set()
    passed: set[int] = set()
    enrolment: tuple = (None, None)
    for kind, ident, status, completed_at in db.session.execute(
            _learner_statement(bool(lesson_ids), bool(quiz_ids)), params):
        if kind == "l":
            done.add(ident)
        elif kind == "q":
            passed.add(ident)
        else:
            enrolment = (status, completed_at)
    return done, passed, enrolment


def _module_entry(module: Module, module_done: dict[str, bool]) -> dict[str, Any]:
    missing = [p for p in (module.prerequisites or []) if not module_done.get(p, False)]
    return {"id": module.id, "slug": module.slug, "done": module_done[module.slug], "missing": missing,
            "unlocked": not missing}


def module_state(progress: dict[str, Any], module: Module) -> dict[str, Any]:
    return next((m for m in progress["modules"] if m["id"] == module.id),
                {"id": module.id, "slug": module.slug, "done": False, "missing": [], "unlocked": True})


def module_locked(user_id: int, module_id: int) -> bool:
    """True when the module's prerequisite modules are not all done by this learner (quizzes use this)."""
    module = db.session.get(Module, module_id)
    if module is None or not module.prerequisites:
        return False
    return not module_state(course_progress(user_id, module.course), module)["unlocked"]


def course_info(course_id: int) -> dict[str, Any] | None:
    course = db.session.get(Course, course_id)
    if course is None:
        return None
    return {"id": course.id, "title": course.title, "slug": course.slug, "summary": course.summary,
            "level": course.level, "hours": course.hours, "achievement": dict(course.achievement or {}),
            "recertify_months": course.recertify_months, "translations": dict(course.translations or {}),
            "archived": course.archived}
