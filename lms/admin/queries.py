"""Admin reads: searchable user list and the audit log, paginated."""
from __future__ import annotations

from sqlalchemy import or_, select

from ..extensions import db
from ..models import AuditEvent, User

USERS_PER_PAGE = 25
EVENTS_PER_PAGE = 50


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_users(q: str, role: str | None, page: int):
    query = select(User).order_by(User.email)
    if q:
        query = query.where(or_(User.email.ilike(_like(q.lower()), escape="\\"),
                                User.name.ilike(_like(q), escape="\\")))
    if role:
        query = query.where(User.role == role)
    return db.paginate(query, page=page, per_page=USERS_PER_PAGE, error_out=False)


def audit_events(action: str | None, page: int):
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action == action)
    return db.paginate(query, page=page, per_page=EVENTS_PER_PAGE, error_out=False)


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def emails_for(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = db.session.execute(select(User.id, User.email).where(User.id.in_(user_ids)))
    return {row.id: row.email for row in rows}
