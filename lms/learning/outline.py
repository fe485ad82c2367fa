"""Read-only snapshot of a course's modules, lessons and quizzes, kept per process and per imported version.

Imported content only changes through `courses import`, which sets a new content_hash and imported_at on the
course, so (course id, content_hash, imported_at) names one version of the outline: every request still reads
the course row, and a re-import is seen at once by every worker. Courses built without the importer (empty
content_hash) are never cached. Snapshots are plain objects, safe to share between requests and threads.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, has_app_context
from sqlalchemy import select

from ..core.page_cache import content_generation
from ..extensions import db
from ..models import Course

MAX_VERSIONS = 64


@dataclass(eq=False, slots=True)
class ModuleView:
    id: int
    course_id: int
    slug: str
    title: str
    summary: str
    position: int
    prerequisites: tuple[str, ...]
    labs: tuple[str, ...]
    translations: dict[str, Any]
    archived: bool
    lessons: tuple["LessonView", ...] = ()  # archived ones too, like the relationship
    quizzes: tuple["QuizView", ...] = ()


@dataclass(eq=False, slots=True)
class LessonView:
    id: int
    module_id: int
    slug: str
    title: str
    position: int
    minutes: int
    body_html: str
    translations: dict[str, Any]
    archived: bool
    module: ModuleView


@dataclass(eq=False, slots=True)
class QuizView:
    id: int
    module_id: int
    slug: str
    title: str
    position: int
    draw_count: int
    attempt_limit: int | None
    pass_mark: float
    time_limit_minutes: int | None
    translations: dict[str, Any]
    archived: bool
    module: ModuleView


def _snapshot(course: Course) -> tuple[ModuleView, ...]:
    """Immutable containers: the snapshot is shared by every request of this process."""
    modules = []
    for m in course.modules:
        view = ModuleView(m.id, m.course_id, m.slug, m.title, m.summary, m.position,
                          tuple(m.prerequisites or ()), tuple(m.labs or ()), dict(m.translations or {}),
                          bool(m.archived))
        view.lessons = tuple(LessonView(x.id, x.module_id, x.slug, x.title, x.position, x.minutes, x.body_html,
                                        dict(x.translations or {}), bool(x.archived), view) for x in m.lessons)
        view.quizzes = tuple(QuizView(q.id, q.module_id, q.slug, q.title, q.position, q.draw_count,
                                      q.attempt_limit, q.pass_mark, q.time_limit_minutes,
                                      dict(q.translations or {}), bool(q.archived), view) for q in m.quizzes)
        modules.append(view)
    return tuple(modules)


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.versions: OrderedDict[tuple, tuple[ModuleView, ...]] = OrderedDict()


def modules(course: Course) -> tuple[ModuleView, ...] | None:
    """The course's modules (all, in order) as snapshots; None when the course is not cacheable."""
    if not course.content_hash or course.id is None:
        return None
    key = (course.id, course.content_hash, course.imported_at)
    seen = g.setdefault("_nia_outline", {}) if has_app_context() else {}
    if key in seen:  # the same objects for the whole request, whatever other threads do to the cache
        return seen[key]
    seen[key] = found = _cached(key, course)
    return found


def _cached(key: tuple, course: Course) -> tuple[ModuleView, ...]:
    cache: _Cache = current_app.extensions.setdefault("nia.learning.outline", _Cache())
    with cache.lock:
        found = cache.versions.get(key)
        if found is not None:
            cache.versions.move_to_end(key)
            return found
    built = _snapshot(course if isinstance(course, Course) else db.session.get(Course, course.id))
    with cache.lock:
        for old in [k for k in cache.versions if k[0] == course.id]:  # a new version replaces the old one
            del cache.versions[old]
        cache.versions[key] = built
        while len(cache.versions) > MAX_VERSIONS:
            cache.versions.popitem(last=False)
    return built


@dataclass(eq=False, slots=True)
class CourseView:
    """A course row as read-only data, shared between requests: lesson pages need no course query per request."""
    id: int
    slug: str
    title: str
    summary: str
    level: str
    hours: float
    position: int
    prerequisites: tuple[str, ...]
    completion: dict[str, Any]
    achievement: dict[str, Any]
    translations: dict[str, Any]
    recertify_months: int | None
    archived: bool
    content_hash: str
    imported_at: Any


def course_view(slug: str) -> CourseView | None:
    """The course named `slug` as of the current content generation (see lms.core.page_cache)."""
    cache: dict = current_app.extensions.setdefault("nia.learning.courses", {})
    key = (slug, content_generation())
    found = cache.get(key)
    if found is None:
        row = db.session.scalar(select(Course).where(Course.slug == slug))
        if row is None or not row.content_hash:
            return None
        found = CourseView(row.id, row.slug, row.title, row.summary, row.level, row.hours, row.position,
                           tuple(row.prerequisites or ()), dict(row.completion or {}), dict(row.achievement or {}),
                           dict(row.translations or {}), row.recertify_months, bool(row.archived),
                           row.content_hash, row.imported_at)
        if len(cache) > MAX_VERSIONS:
            cache.clear()
        cache[key] = found
    return found
