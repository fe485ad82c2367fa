"""Response hardening, request size limits and the login loader."""
from __future__ import annotations

from flask import Flask, current_app, request, session, url_for
from flask_babel import get_locale, get_translations
from flask_login.config import COOKIE_NAME, SESSION_KEYS
from werkzeug.middleware.proxy_fix import ProxyFix

from ..extensions import login_manager
from .i18n import LOCALE_NAMES, html_lang, template_gettext
from .navigation import nav_items
from .signed_values import RememberingSessionInterface
from .urls import fixed_url

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
_HEADERS = (("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "same-origin"))
_HSTS = ("Strict-Transport-Security", "max-age=31536000")


def init_security(app: Flask) -> None:
    app.session_interface = RememberingSessionInterface()
    if int(app.config.get("PROXY_FIX_X_FOR", 0) or 0):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(app.config["PROXY_FIX_X_FOR"]), x_proto=1)

    @app.after_request
    def _headers(response):
        headers = response.headers  # a view's own value wins (as setdefault), without setdefault's extra lookups
        for name, value in _HEADERS:
            if name not in headers:
                headers.add(name, value)
        if current_app.config.get("SESSION_COOKIE_SECURE") and _HSTS[0] not in headers:
            headers.add(*_HSTS)
        return response

    @app.context_processor
    def _globals():
        return _page_constants(str(get_locale() or "en"), get_translations())

    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "strong"
    _skip_protection_without_identity(login_manager)

    @login_manager.user_loader
    def _load_user(identity: str):
        from ..accounts.signed_in import load_signed_in

        user_id, _, version = identity.partition(":")
        if not user_id.isdigit():
            return None
        return load_signed_in(int(user_id), version)

    @login_manager.unauthorized_handler
    def _unauthorized():
        from flask import abort, redirect

        if request.path.startswith("/api/"):
            abort(401)
        return redirect(url_for("accounts.login", next=request.full_path))


def _page_constants(locale: str, translations) -> dict:
    """What base.html needs that is the same for every page of one locale and mount point, built once per app:
    the language links, the stylesheet URL, gettext bound to the catalogue."""
    cache = current_app.extensions.setdefault("nia.page_constants", {})
    key = (locale, request.script_root, id(translations))
    found = cache.get(key)
    if found is None or found["_translations"] is not translations:
        found = cache[key] = {
            "_translations": translations,  # keeps the catalogue alive, so its id is not reused
            "current_locale": locale, "html_lang": html_lang(locale), "locale_names": LOCALE_NAMES,
            "locale_links": [(code, name, code.replace("_", "-"), url_for("core.choose_locale", code=code))
                             for code, name in LOCALE_NAMES.items() if code in current_app.config["LANGUAGES"]],
            "stylesheet_url": fixed_url("static", filename="css/app.css"),
            "fixed_url": fixed_url, "nav_items": nav_items, "endpoints": current_app.view_functions,
            **template_gettext(translations)}
    return found


def _skip_protection_without_identity(manager) -> None:
    """flask-login's "strong" session protection treats a session without `_id` as stolen: for an anonymous
    visitor whose session only holds a CSRF token or a language it "clears" the (absent) login keys on every
    request, which marks the session modified, so every response re-signs and re-sends the session cookie and
    deletes a remember cookie the browser does not have. With no login key in the session and no remember cookie
    in the request there is nothing to protect; everything else still goes through flask-login's check."""
    if getattr(manager, "_nia_protection_wrapped", False):
        return
    check = manager._session_protection_failed

    def _session_protection_failed() -> bool:
        cookie_name = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
        if session.keys().isdisjoint(SESSION_KEYS) and cookie_name not in request.cookies:
            return False
        return check()

    manager._session_protection_failed = _session_protection_failed
    manager._nia_protection_wrapped = True
