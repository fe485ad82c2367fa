"""Response hardening, request size limits and the login loader."""
from __future__ import annotations

from flask import Flask, current_app, request
from flask_babel import get_locale, get_translations
from werkzeug.middleware.proxy_fix import ProxyFix

from ..extensions import db, login_manager
from .i18n import LOCALE_NAMES, html_lang, template_gettext
from .navigation import nav_items

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def init_security(app: Flask) -> None:
    if int(app.config.get("PROXY_FIX_X_FOR", 0) or 0):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(app.config["PROXY_FIX_X_FOR"]), x_proto=1)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if current_app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @app.context_processor
    def _globals():
        locale = str(get_locale() or "en")
        return {"current_locale": locale, "html_lang": html_lang(locale), "locale_names": LOCALE_NAMES,
                "nav_items": nav_items, "endpoints": current_app.view_functions,
                **template_gettext(get_translations())}

    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(identity: str):
        from ..models import User

        user_id, _, version = identity.partition(":")
        if not user_id.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or str(user.session_version) != version:
            return None
        return user

    @login_manager.unauthorized_handler
    def _unauthorized():
        from flask import abort, redirect, url_for

        if request.path.startswith("/api/"):
            abort(401)
        return redirect(url_for("accounts.login", next=request.full_path))
