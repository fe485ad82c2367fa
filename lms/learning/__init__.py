"""Learning: catalog, course and lesson pages, enrolment, progress, dashboard and course completion."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


LEVEL_NAMES = {"beginner": _l("Beginner"), "intermediate": _l("Intermediate"), "advanced": _l("Advanced")}


def level_name(level: str) -> str:
    """A course level in the current locale (a template global)."""
    return str(LEVEL_NAMES.get(level, level))


def init_app(app: Flask) -> None:
    from .. import content
    from ..core.navigation import register_nav
    from ..core.progress_stamp import track as track_progress
    from ..models import Enrolment, LessonCompletion
    from . import completion, queries
    from .views import bp

    content.init_app(app)  # the `courses` CLI group (content has no blueprint of its own)
    app.register_blueprint(bp)
    app.add_template_global(queries.tr, "tr")
    app.add_template_global(level_name, "level_name")
    register_nav(app, "learning.catalog", _l("Courses"), who="all", order=10)
    register_nav(app, "learning.dashboard", _l("My learning"), who="user", order=5)
    completion.connect(app)
    track_progress(Enrolment)
    track_progress(LessonCompletion)
