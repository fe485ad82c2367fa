"""Audit log writes. Added to the current session: the request or job commits once."""
from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from ..extensions import db
from ..models import AuditEvent


def client_ip() -> str | None:
    # ProxyFix (configured in create_app) already resolved X-Forwarded-For from trusted proxies.
    return request.remote_addr if has_request_context() else None


def record(action: str, target: str | None = None, *, actor_id: int | None = None, **detail: Any) -> AuditEvent:
    if actor_id is None and has_request_context() and current_user and current_user.is_authenticated:
        actor_id = current_user.id
    event = AuditEvent(action=action, target=target, actor_id=actor_id, ip=client_ip(), detail=detail)
    db.session.add(event)
    return event
