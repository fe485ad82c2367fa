"""One row per (trainee, lab): the hub's named server for it and pending reset requests."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db
from lms.models._types import UTCDateTime, utcnow


class LabServer(db.Model):
    __tablename__ = "lab_servers"
    __table_args__ = (UniqueConstraint("user_id", "course_slug", "lab_slug", name="uq_lab_servers_user_lab"),
                      UniqueConstraint("user_id", "server_name", name="uq_lab_servers_user_server"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_slug: Mapped[str] = mapped_column(String(80))
    lab_slug: Mapped[str] = mapped_column(String(80))
    server_name: Mapped[str] = mapped_column(String(170))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_launch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reset_requested: Mapped[bool] = mapped_column(default=False)  # consumed by the next spawn's spec request
    resets: Mapped[int] = mapped_column(default=0)
    submissions: Mapped[int] = mapped_column(default=0)
