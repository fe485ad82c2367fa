"""Accounts: registration, login with throttling, password reset by mail, profile and API tokens."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from ..core.navigation import register_nav


def init_app(app: Flask) -> None:
    from ..core.health import register_health_check
    from ..core.mail import mail_health
    from .cli import users_cli
    from .views import bp

    app.register_blueprint(bp)
    app.cli.add_command(users_cli)
    register_health_check(app, "mail", mail_health)
    register_nav(app, "accounts.profile", _l("Profile"), who="user", order=80)
    register_nav(app, "accounts.register", _l("Register"), who="anonymous", order=90)
