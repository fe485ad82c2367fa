"""Lab pages: open (with spawn progress), reset, submit; the hub's internal spec endpoint; and the endpoints the
in-lab submit command calls with its server's own hub token (no LMS session, so no CSRF)."""
from __future__ import annotations

from contextlib import nullcontext

from flask import (Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_babel import force_locale, gettext as _
from flask_login import current_user

from lms.core.errors import problem, wants_json
from lms.core.exceptions import UserError
from lms.extensions import csrf
from lms.oidc.claims import hub_username

from . import hub, inlab, labauth, operations, providers
from .decorators import hub_secret_required, lab_access_required
from .queries import lab_server, server_name

bp = Blueprint("labs", __name__, url_prefix="/launch", static_folder="static", static_url_path="/_static")


def _open_url(spec) -> str:
    return (f"{current_app.config['HUB_PUBLIC_URL']}/user/{hub_username(current_user)}/"
            f"{server_name(spec.course, spec.lab)}/lab/tree/{spec.main_notebook}")


def _error(error: UserError):
    """A problem document; a rate limit also says when to come back (Retry-After)."""
    response = problem(error.status, error.message)
    if getattr(error, "retry_after", None):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _page(spec, error: UserError | None = None, launching: bool = False):
    row = lab_server(current_user.id, spec.course, spec.lab)
    return render_template("labs/lab.html", spec=spec, row=row, error=error, launching=launching,
                           open_url=_open_url(spec), results_url=providers.results_link(spec.course, spec.lab)), \
        (error.status if error else 200)


@bp.get("/<course>/<lab>")
@lab_access_required
def lab_page(spec):
    return _page(spec, launching=request.args.get("launching") == "1")


@bp.post("/<course>/<lab>/launch")
@lab_access_required
def launch(spec):
    try:
        state = operations.launch(current_user, spec)
    except UserError as error:
        return _error(error) if wants_json() else _page(spec, error)
    if wants_json():
        return jsonify(state=state, open_url=_open_url(spec),
                       progress_url=url_for("labs.progress", course=spec.course, lab=spec.lab))
    return redirect(url_for("labs.lab_page", course=spec.course, lab=spec.lab, launching=1))


@bp.post("/<course>/<lab>/reset")
@lab_access_required
def reset(spec):
    try:
        operations.reset(current_user, spec)
    except UserError as error:
        return _page(spec, error)
    flash(_("Your lab was reset. Your previous files are in the backups folder."), "success")
    return redirect(url_for("labs.lab_page", course=spec.course, lab=spec.lab, launching=1))


@bp.post("/<course>/<lab>/submit")
@lab_access_required
def submit(spec):
    try:
        receipt, _saved_at = operations.submit(current_user, spec)
    except UserError as error:
        return _error(error) if wants_json() else _page(spec, error)
    if wants_json():
        return jsonify(submission_id=receipt.submission_id, status=receipt.status, url=receipt.url), 202
    flash(_("Submitted. Grading has started; the result appears here and in your progress."), "success")
    return redirect(receipt.url or url_for("labs.lab_page", course=spec.course, lab=spec.lab))


@bp.get("/<course>/<lab>/progress")
@lab_access_required
def progress(spec):
    """The hub's spawn progress (Server-Sent Events), relayed so the browser only talks to the LMS."""
    events = hub.progress_events(hub_username(current_user), server_name(spec.course, spec.lab))
    return Response(stream_with_context(events), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@bp.get("/<course>/<lab>/status")
@lab_access_required
def status(spec):
    try:
        model = hub.get_server(hub_username(current_user), server_name(spec.course, spec.lab))
    except UserError as error:
        return problem(error.status, error.message)
    return jsonify(running=model is not None, ready=bool(model and model.get("ready")),
                   pending=(model or {}).get("pending"), open_url=_open_url(spec))


@bp.get("/_hub/spec")
@csrf.exempt
@hub_secret_required
def internal_spec():
    try:
        lms_url = current_app.config["HUB_LAB_LMS_URL"] or request.host_url.rstrip("/")
        return jsonify(operations.spawn_spec(request.args.get("user", ""), request.args.get("server", ""), lms_url))
    except UserError as error:
        return problem(error.status, error.message)


def _from_lab(action, status: int = 200):
    """Authenticate the lab's token, then run `action(caller)` in the trainee's own language."""
    try:
        caller = labauth.lab_caller(request.headers.get("Authorization", ""),
                                    request.headers.get("X-NIA-Lab-Server"), request.remote_addr)
        with force_locale(caller.user.locale) if caller.user.locale else nullcontext():
            return jsonify(action(caller)), status
    except UserError as error:
        return _error(error)


@bp.post("/_lab/submit")
@csrf.exempt
def lab_submit():
    return _from_lab(inlab.submit_from_lab, 202)


@bp.get("/_lab/submissions/<int:submission_id>")
def lab_submission_status(submission_id: int):
    return _from_lab(lambda caller: inlab.status_from_lab(caller, submission_id))
