"""Reads: our tables, plus read-only views of LMS users and courses (through the LMS query API when present)."""
from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from lms.extensions import db
from lms.models import Course, User
from lms.models._types import utcnow

from .models import IssuedCredential, SigningKey, StatusList


def base_url() -> str:
    configured = current_app.config.get("PUBLIC_BASE_URL") or ""
    if configured:
        return configured.rstrip("/")
    return f"http://{current_app.config['LMS_HOST']}:{current_app.config['LMS_PORT']}"


def course_info(course_id: int) -> dict[str, Any] | None:
    try:
        from lms.learning.queries import course_info as lms_course_info  # the LMS's own view when present
    except ImportError:
        lms_course_info = None
    if lms_course_info is not None:
        info = lms_course_info(course_id)
        if info:
            return dict(info)
    course = db.session.get(Course, course_id)
    if course is None:
        return None
    return {"id": course.id, "slug": course.slug, "title": course.title, "summary": course.summary,
            "achievement": course.achievement or {}, "recertify_months": course.recertify_months}


def user_info(user_id: int) -> dict[str, Any] | None:
    user = db.session.get(User, user_id)
    return None if user is None else {"id": user.id, "name": user.name, "email": user.email}


def credential(credential_id: str) -> IssuedCredential | None:
    credential_id = credential_id.removeprefix("urn:uuid:").strip().lower()
    if len(credential_id) != 36:
        return None
    return db.session.get(IssuedCredential, credential_id)


def credentials_for_user(user_id: int) -> list[IssuedCredential]:
    return list(db.session.scalars(select(IssuedCredential).where(IssuedCredential.user_id == user_id)
                                   .order_by(IssuedCredential.issued_at.desc())))


def all_credentials(limit: int = 500) -> list[IssuedCredential]:
    return list(db.session.scalars(select(IssuedCredential).order_by(IssuedCredential.issued_at.desc())
                                   .limit(limit)))


def current_for(user_id: int, course_slug: str) -> IssuedCredential | None:
    rows = db.session.scalars(select(IssuedCredential).where(
        IssuedCredential.user_id == user_id, IssuedCredential.course_slug == course_slug,
        IssuedCredential.replaced_by.is_(None)).order_by(IssuedCredential.issued_at.desc()))
    return next(iter(rows), None)


def published_keys() -> list[tuple[str, str]]:
    """The active key, and each retired key while a credential it signed has not expired (revoked ones included:
    verifiers must still be able to see that they were genuine and are revoked)."""
    now = utcnow()
    in_use = set(db.session.scalars(select(IssuedCredential.key_id).where(
        (IssuedCredential.valid_until.is_(None)) | (IssuedCredential.valid_until > now)).distinct()))
    keys = db.session.scalars(select(SigningKey).order_by(SigningKey.id))
    return [(k.key_id, k.public_multibase) for k in keys if k.retired_at is None or k.key_id in in_use]


def status_list(purpose: str) -> StatusList | None:
    return db.session.get(StatusList, purpose)


def flagged_indexes(purpose: str) -> list[int]:
    if purpose == "revocation":
        query = select(IssuedCredential.revocation_index).where(IssuedCredential.revoked_at.is_not(None))
    else:
        query = select(IssuedCredential.suspension_index).where(IssuedCredential.suspended.is_(True))
    return list(db.session.scalars(query))


def index_taken(purpose: str, index: int) -> bool:
    column = IssuedCredential.revocation_index if purpose == "revocation" else IssuedCredential.suspension_index
    return db.session.scalar(select(IssuedCredential.id).where(column == index).limit(1)) is not None
