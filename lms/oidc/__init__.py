"""The LMS as OAuth2 / OpenID Connect provider, so JupyterHub logs trainees in with their LMS account."""
from __future__ import annotations

from flask import Flask, current_app

from lms.signals import user_logged_out


def init_app(app: Flask) -> None:
    from lms.labs.settings import apply_hub_settings

    from . import models  # noqa: F401 - registers the tables
    from .cli import register_cli
    from .server import init_server
    from .views import bp

    app.config.setdefault("OIDC_ISSUER", "")
    app.config.setdefault("OIDC_SIGNING_KEY_FILE", "")
    apply_hub_settings(app)
    init_server(app)
    app.register_blueprint(bp)
    register_cli(app)
    user_logged_out.connect(_revoke_on_logout, sender=app, weak=False)


def _revoke_on_logout(sender, user_id: int, **_extra) -> None:
    from lms.extensions import db

    from .operations import revoke_user_tokens

    revoke_user_tokens(user_id)
    db.session.commit()
    current_app.logger.info("revoked OIDC tokens of user %s at logout", user_id)
