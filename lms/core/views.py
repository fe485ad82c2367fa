"""Home page and the language switch."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.exceptions import BadRequest

from ..extensions import db

bp = Blueprint("core", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated and "learning.dashboard" in current_app.view_functions:
        return redirect(url_for("learning.dashboard"))
    return render_template("core/index.html")


@bp.post("/locale")
def set_locale():
    locale = request.form.get("locale", "")
    if locale not in current_app.config["LANGUAGES"]:
        raise BadRequest("unknown locale")
    session["locale"] = locale
    if current_user.is_authenticated:
        current_user.locale = locale
        db.session.commit()
    target = request.form.get("next") or url_for("core.index")
    return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("core.index"))
