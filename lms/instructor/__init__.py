"""Instructor pages: courses with enrolment counts, per-course gradebook and its CSV export."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from ..core.navigation import register_nav
    from .views import bp

    app.register_blueprint(bp)
    register_nav(app, "instructor.index", _l("Teaching"), "staff", order=70)
