"""Writes: launch, reset and submit a trainee's lab; the spec the hub's pre_spawn_hook asks for."""
from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.core.audit import record
from lms.core.exceptions import Conflict, NotAllowed, NotFound, UserError
from lms.extensions import db
from lms.models import AuditEvent, User
from lms.models._types import utcnow
from lms.oidc.claims import hub_username, user_id_from_hub_username

from . import hub, providers
from .labauth import SlowDown
from .models import LabServer
from .queries import lab_server, lab_server_by_name, may_use_lab, server_name, trainee_seed


class ServiceUnavailable(UserError):
    status = 503


def _ensure_row(user: User, spec: providers.LabSpec) -> LabServer:
    row = lab_server(user.id, spec.course, spec.lab)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():  # a concurrent double-click may insert the same row
            row = LabServer(user_id=user.id, course_slug=spec.course, lab_slug=spec.lab,
                            server_name=server_name(spec.course, spec.lab))
            db.session.add(row)
    except IntegrityError:
        row = lab_server(user.id, spec.course, spec.lab)
    return row


def launch(user: User, spec: providers.LabSpec) -> str:
    """Start the trainee's named server for this lab: 'started', 'pending' or 'running'."""
    row = _ensure_row(user, spec)
    db.session.commit()  # the hub's pre-spawn hook asks for this row in another request, maybe before we return
    name = hub_username(user)
    if row.last_launch_at is None:  # later launches skip a hub call: the account exists unless the hub was reset
        hub.ensure_user(name)
    try:
        state = hub.start_server(name, row.server_name)
    except hub.NoSuchHubUser:
        hub.ensure_user(name)
        state = hub.start_server(name, row.server_name)
    row.last_launch_at = utcnow()
    record("lab.launched", f"{spec.course}/{spec.lab}", state=state)
    db.session.commit()
    return state


def reset(user: User, spec: providers.LabSpec) -> str:
    """Fresh copy of the release files on the next spawn; the current files move to backups/<time>/."""
    row = _ensure_row(user, spec)
    row.reset_requested = True
    row.resets += 1
    record("lab.reset", f"{spec.course}/{spec.lab}")
    db.session.commit()
    name = hub_username(user)
    if hub.get_server(name, row.server_name) is not None:
        hub.stop_server(name, row.server_name)
    return launch(user, spec)


def _check_submit_rate(user: User, spec: providers.LabSpec) -> None:
    """A pause between submissions of one lab and an hourly cap, per trainee (never per address: NAT-friendly)."""
    cfg = current_app.config
    now = utcnow()
    recent = list(db.session.scalars(select(AuditEvent.at).where(
        AuditEvent.action == "lab.submitted", AuditEvent.actor_id == user.id,
        AuditEvent.target == f"{spec.course}/{spec.lab}", AuditEvent.at >= now - timedelta(hours=1))
        .order_by(AuditEvent.at.desc())))
    pause = cfg["HUB_SUBMIT_MIN_INTERVAL"]
    if recent and (now - recent[0]).total_seconds() < pause:
        wait = pause - (now - recent[0]).total_seconds()
        raise SlowDown(_("You submitted this lab a moment ago. Wait %(seconds)s seconds before submitting again.",
                         seconds=int(wait) + 1), wait)
    if len(recent) >= cfg["HUB_SUBMITS_PER_HOUR"]:
        wait = (recent[-1] + timedelta(hours=1) - now).total_seconds()
        raise SlowDown(_("You have submitted this lab %(count)s times in the last hour. Wait %(minutes)s minutes "
                         "before submitting again.", count=len(recent), minutes=int(wait // 60) + 1), wait)


def submit(user: User, spec: providers.LabSpec) -> tuple[providers.SubmitReceipt, str | None]:
    """Fetch the saved notebook from the trainee's running server and hand it to grading.

    Returns the receipt and when the notebook was last saved (the contents API reads the file on disk)."""
    if not providers.has("submit"):
        raise ServiceUnavailable(_("Grading is not available right now, so nothing was submitted. "
                                   "Your work is safe in the lab; try again later."))
    _check_submit_rate(user, spec)
    row = lab_server(user.id, spec.course, spec.lab)
    name = hub_username(user)
    model = hub.get_server(name, row.server_name) if row is not None else None
    if not model or not model.get("ready"):
        raise Conflict(_("Your lab is not running, so there is nothing to submit yet. Open the lab first, "
                         "then submit."))
    response = hub.fetch_contents(name, row.server_name, spec.main_notebook)
    if response.status_code == 404:
        raise Conflict(_("%(path)s is missing from your lab. Rename your notebook back to it, or use "
                         "“Reset lab” (your current files are kept in the backups folder).", path=spec.main_notebook))
    if response.status_code != 200 or response.json().get("type") != "notebook":
        raise hub.HubError(_("Your notebook could not be read from the lab (%(status)s).",
                             status=response.status_code))
    contents = response.json()
    receipt = providers.submit_notebook(user.id, spec.course, spec.lab, contents["content"], spec.main_notebook)
    if receipt is None:
        raise ServiceUnavailable(_("Grading did not accept the submission. Your work is safe; try again later."))
    row.submissions += 1
    record("lab.submitted", f"{spec.course}/{spec.lab}", actor_id=user.id, submission=str(receipt.submission_id))
    db.session.commit()
    if receipt.after_commit is not None:
        receipt.after_commit()
    return receipt, contents.get("last_modified")


def spawn_spec(hub_user: str, server: str, lms_url: str) -> dict:
    """What the hub's pre_spawn_hook stages and which environment the kernel gets. Never from user_options.

    `lms_url` is where the lab's submit command reaches the LMS (HUB_LAB_LMS_URL, else the URL the hub used)."""
    user_id = user_id_from_hub_username(hub_user)
    user = db.session.get(User, user_id) if user_id is not None else None
    row = lab_server_by_name(user.id, server) if user is not None else None
    if row is None:
        raise NotFound(_("No lab was launched from the LMS for this server."))
    if not user.active or not may_use_lab(user, row.course_slug):
        raise NotAllowed(_("This account may not use this lab."))
    spec = providers.lab_spec(row.course_slug, row.lab_slug)
    if spec is None:
        raise NotFound(_("This lab no longer exists."))
    seed = spec.seed_for(user.id) if spec.seed_for else trainee_seed(user.id, spec.course, spec.lab)
    try:
        access = providers.line_access(user.id, spec, seed)
    except Exception:  # the simulator is another process: its failure is a clear 503, not a hub 500
        current_app.logger.exception("line provider failed for %s %s/%s", hub_user, spec.course, spec.lab)
        access = None
    if access is None:
        raise ServiceUnavailable(_("The simulated production line is not available right now."))
    seed = access.seed if access.seed is not None else seed
    environment = {**spec.extra_env, "MQTT_HOST": access.mqtt_host, "MQTT_PORT": str(access.mqtt_port),
                   "MQTT_USERNAME": access.username, "MQTT_PASSWORD": access.password,
                   "MQTT_TOPIC_PREFIX": access.topic_prefix, "LAB_SCENARIO": spec.scenario,
                   "LAB_SEED": str(seed), "LAB_COURSE": spec.course, "LAB_SLUG": spec.lab,
                   "LAB_NOTEBOOK": spec.main_notebook, "NIA_LMS_URL": lms_url,
                   # the names grading uses when it replays the scenario (grading.operations.lab_env)
                   "NIA_LAB_SEED": str(seed), "NIA_LAB_SCENARIO": spec.scenario, "NIA_LAB_TRAINEE": access.username}
    reset_now = row.reset_requested
    row.reset_requested = False
    db.session.commit()
    return {"course": spec.course, "lab": spec.lab, "directory": f"{spec.course}/{spec.lab}",
            "main_notebook": spec.main_notebook, "default_url": f"/lab/tree/{spec.main_notebook}",
            "reset": reset_now, "backup_name": datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
            "files": [{"path": path, "content_b64": base64.b64encode(content).decode()}
                      for path, content in sorted(spec.files.items())],
            "environment": environment}


def end_hub_session(user_id: int) -> None:
    """At LMS logout: revoke the user's hub tokens; the hub's next auth refresh then fails and asks to log in."""
    user = db.session.get(User, user_id)
    if user is None:
        return
    try:
        hub.end_user_session(hub_username(user))
    except UserError as error:  # the hub being down must not break logging out of the LMS
        current_app.logger.warning("could not end hub session of %s: %s", user_id, error.message)
