"""Quizzes: random draws from a question bank, attempt limits, time limits, server-side scoring."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from ..core.navigation import register_nav
    from ..core.progress_stamp import track as track_progress
    from ..models import QuizAttempt
    from .views import bp

    app.register_blueprint(bp)
    register_nav(app, "quizzes.index", _l("Quizzes"), "user", order=30)
    track_progress(QuizAttempt)
