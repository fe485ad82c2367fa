"""LMS side of the virtual lab: the trainee's own line page (live state, counters, sparklines over SSE) and the
line provider the lab launcher calls. Blueprint "lab"; views stay thin, the work is in webops.py."""
from __future__ import annotations

from flask import Blueprint, Flask, Response, abort, current_app, flash, redirect, render_template, request, \
    stream_with_context, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from lms.core.decorators import trainee_required

from . import webops

bp = Blueprint("lab", __name__, url_prefix="/lab", template_folder="templates", static_folder="static",
               static_url_path="/static")


def init_app(app: Flask) -> None:
    from lms.core.health import register_health_check
    from lms.core.navigation import register_nav

    webops.configure(app)
    app.register_blueprint(bp)
    register_nav(app, "lab.line_page", _l("My line"), "user", order=45)
    register_health_check(app, "simulator", webops.health)
    try:
        from lms.labs import register_line_provider
    except ImportError:  # the lab launcher is optional
        return
    register_line_provider(app, webops.line_provider)


@bp.get("/")
@trainee_required
def line_page():
    context = webops.page_context(current_user)
    return render_template("lab/line.html", **context)


@bp.post("/start")
@trainee_required
def start_line():
    scenario = request.form.get("scenario", "")
    ok, message = webops.start_own_line(current_user, scenario)
    flash(message, "success" if ok else "error")
    return redirect(url_for("lab.line_page"))


@bp.post("/stop")
@trainee_required
def stop_line():
    ok, message = webops.stop_own_line(current_user)
    flash(message, "success" if ok else "error")
    return redirect(url_for("lab.line_page"))


@bp.get("/stream")
@trainee_required
def stream():
    if request.headers.get("Accept", "text/event-stream") not in ("text/event-stream", "*/*"):
        abort(406)
    events = webops.sse_events(current_user.id, current_app.config)
    return Response(stream_with_context(events), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


__all__ = ["bp", "init_app", "_"]
