"""Home page and the language switch."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.exceptions import BadRequest

from ..extensions import db
from .page_cache import shared_page
from .urls import safe_next

bp = Blueprint("core", __name__)


@bp.get("/")
@shared_page
def index():
    if current_user.is_authenticated and "learning.dashboard" in current_app.view_functions:
        return redirect(url_for("learning.dashboard"))
    return render_template("core/index.html")


@bp.get("/locale/<code>")
def choose_locale(code: str):
    """The language links in every page header. A GET, so pages need no CSRF token (and anonymous visitors no
    session) just to offer the switch. Safe as a GET: it only stores a display preference of the visitor's own,
    `next` must be a local path (no open redirect), the session cookie is SameSite=Lax (no cross-site sub-requests)
    and the answer is never cached."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    _remember(code)
    response = redirect(safe_next(request.args.get("next")), 303)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/locale")
def set_locale():
    """The same choice as a form post (kept for clients that post it)."""
    locale = request.form.get("locale", "")
    if locale not in current_app.config["LANGUAGES"]:
        raise BadRequest("unknown locale")
    _remember(locale)
    return redirect(safe_next(request.form.get("next")))


def _remember(locale: str) -> None:
    session["locale"] = locale
    if current_user.is_authenticated:
        current_user.locale = locale
        db.session.commit()
