"""Certificate tables: signing-key metadata (private keys live in files), issued credentials, signed status lists."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db
from lms.models._types import UTCDateTime, utcnow


class SigningKey(db.Model):
    """Public half and file name of an issuer key; retired keys stay published for the credentials they signed."""

    __tablename__ = "cert_signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(64), unique=True)  # DID URL fragment
    public_multibase: Mapped[str] = mapped_column(String(80))
    file_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IssuedCredential(db.Model):
    """One signed OpenBadgeCredential; `document` is exactly what was signed and handed out."""

    __tablename__ = "cert_credentials"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUID; the credential id is urn:uuid:<id>
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    course_id: Mapped[int | None] = mapped_column(index=True)
    course_slug: Mapped[str] = mapped_column(String(80), index=True)
    title: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str] = mapped_column(String(64), index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revocation_index: Mapped[int] = mapped_column(Integer, unique=True)
    suspension_index: Mapped[int] = mapped_column(Integer, unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended: Mapped[bool] = mapped_column(default=False)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(default=1)  # bumped on status change: versioned PDF URLs
    replaced_by: Mapped[str | None] = mapped_column(String(36))

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.suspended:
            return "suspended"
        if self.valid_until is not None and self.valid_until <= utcnow():
            return "expired"
        return "active"


class StatusList(db.Model):
    """The signed BitstringStatusListCredential per purpose, re-signed whenever a bit changes."""

    __tablename__ = "cert_status_lists"

    purpose: Mapped[str] = mapped_column(String(16), primary_key=True)  # revocation | suspension
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
