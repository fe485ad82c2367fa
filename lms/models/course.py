from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import UTCDateTime, utcnow


class Course(db.Model):
    """A course imported from courses/<slug>/; slugs are stable keys so re-import keeps learner data."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    level: Mapped[str] = mapped_column(String(20), default="beginner")
    hours: Mapped[float] = mapped_column(default=0.0)
    position: Mapped[int] = mapped_column(default=0)
    prerequisites: Mapped[list[str]] = mapped_column(JSON, default=list)  # course slugs
    completion: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    achievement: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recertify_months: Mapped[int | None] = mapped_column()
    archived: Mapped[bool] = mapped_column(default=False)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    modules = relationship("Module", back_populates="course", order_by="Module.position",
                           cascade="all, delete-orphan")


class Module(db.Model):
    __tablename__ = "modules"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    prerequisites: Mapped[list[str]] = mapped_column(JSON, default=list)  # module slugs in the course
    labs: Mapped[list[str]] = mapped_column(JSON, default=list)  # lab slugs (grading package owns labs)
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    archived: Mapped[bool] = mapped_column(default=False)

    course = relationship("Course", back_populates="modules")
    lessons = relationship("Lesson", back_populates="module", order_by="Lesson.position",
                           cascade="all, delete-orphan")
    quizzes = relationship("Quiz", back_populates="module", order_by="Quiz.position",
                           cascade="all, delete-orphan")


class Lesson(db.Model):
    __tablename__ = "lessons"
    __table_args__ = (UniqueConstraint("module_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    minutes: Mapped[int] = mapped_column(default=10)
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")  # rendered and sanitised at import
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # locale -> {title, body_html}
    archived: Mapped[bool] = mapped_column(default=False)

    module = relationship("Module", back_populates="lessons")
