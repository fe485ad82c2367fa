"""Administration: users and roles, account activation, the audit log."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from ..core.navigation import register_nav


def init_app(app: Flask) -> None:
    from .views import bp

    app.register_blueprint(bp)
    register_nav(app, "admin.users", _l("Admin"), who="admin", order=95)
