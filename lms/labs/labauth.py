"""Who is calling from inside a lab: the single-user server's own JUPYTERHUB_API_TOKEN, checked with the hub.

The in-lab submit command (virtual_lab/hub/labsubmit.py) sends the token the hub gave its server. The LMS asks the
hub who holds it (GET /hub/api/user *with* that token) and which server it belongs to (every server token carries
the scope `access:servers!server=<hub user>/<server>`), then maps the hub user back to the LMS account. So the
trainee's environment gets no new secret, and a submission is always the token holder's own: nothing in the
request names a user. Refused tokens are audited and limited per address (generously: a classroom shares a NAT).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from lms.core.audit import record
from lms.core.exceptions import NotAllowed, NotFound, TooManyRequests, UserError
from lms.extensions import db
from lms.models import AuditEvent, User
from lms.models._types import utcnow
from lms.oidc.claims import user_id_from_hub_username

from . import hub
from .models import LabServer
from .queries import lab_server_by_name

TOKEN_REFUSED = "lab.token_refused"
_TOKEN = re.compile(r"[A-Za-z0-9_.~+/=-]{16,512}")
_SERVER_SCOPE = "access:servers!server="
FAILURE_WINDOW = timedelta(minutes=10)


class NotAuthenticated(UserError):
    status = 401


class SlowDown(TooManyRequests):
    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


@dataclass(frozen=True)
class LabCaller:
    user: User
    row: LabServer  # the LMS's record of the lab server the token belongs to


def token_from_header(header: str) -> str:
    """`Authorization: token <t>` (JupyterHub's style) or `Bearer <t>`; '' when absent or malformed."""
    scheme, _sep, value = (header or "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() not in ("token", "bearer") or not _TOKEN.fullmatch(value):
        return ""
    return value


def token_servers(model: dict) -> list[str]:
    """The servers of the token holder that the token may access (a lab server's own token: exactly one)."""
    owner = model.get("name", "")
    found = []
    for scope in model.get("scopes") or []:
        if scope.startswith(_SERVER_SCOPE):
            user, _sep, server = scope[len(_SERVER_SCOPE):].partition("/")
            if user == owner and server:
                found.append(server)
    return sorted(set(found))


def _refuse(reason: str, error: UserError, user: User | None = None) -> UserError:
    """Audit the refusal (committed now: the request ends with the error) and hand the error back to raise."""
    record(TOKEN_REFUSED, f"hub-user:{user.id}" if user else None, actor_id=user.id if user else None,
           reason=reason)
    db.session.commit()
    return error


def _check_failures(ip: str | None) -> None:
    limit = current_app.config["HUB_LAB_TOKEN_FAILURES_PER_IP"]
    since = utcnow() - FAILURE_WINDOW
    count, oldest = db.session.execute(select(func.count(AuditEvent.id), func.min(AuditEvent.at)).where(
        AuditEvent.action == TOKEN_REFUSED, AuditEvent.ip == (ip or ""), AuditEvent.at >= since)).one()
    if count >= limit:
        wait = (oldest + FAILURE_WINDOW - utcnow()).total_seconds()
        raise SlowDown(_("Too many refused lab tokens from your network. Wait %(minutes)s minutes and try again.",
                         minutes=max(1, int(wait // 60) + 1)), wait)


def lab_caller(authorization: str, server_hint: str | None, ip: str | None) -> LabCaller:
    """Authenticate a call from inside a lab; every refusal is a clear 401/403/404, never a 500."""
    _check_failures(ip)
    token = token_from_header(authorization)
    model = hub.token_owner(token) if token else None
    if model is None:
        raise _refuse("invalid token", NotAuthenticated(_(
            "The lab's access token was not accepted (missing, revoked or expired — e.g. after logging out). "
            "Reopen the lab from NI Academy and run the command there.")))
    user_id = user_id_from_hub_username(model.get("name", "")) if model.get("kind") == "user" else None
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active:
        raise _refuse("no account", NotAllowed(_("This lab does not belong to an active NI Academy account.")))
    servers = token_servers(model)
    if server_hint and server_hint not in servers:
        raise _refuse("other server", NotAllowed(_(
            "This token belongs to another lab server. Run the command inside the lab you want to submit.")), user)
    if len(servers) != 1:
        raise _refuse("not a server token", NotAllowed(_(
            "Only a lab's own server can submit it: run the command inside the lab you want to submit.")), user)
    row = lab_server_by_name(user.id, servers[0])
    if row is None:
        raise NotFound(_("This server is not a lab opened from NI Academy, so there is nothing here to grade."))
    return LabCaller(user=user, row=row)
