"""Grading tables: labs (imported from lab.yaml), immutable submissions, jobs and grades."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models._types import UTCDateTime, utcnow

# Job states, in the order a trainee sees them.
QUEUED, GRADING, GRADED, FAILED = "queued", "grading", "graded", "error"


class Lab(db.Model):
    __tablename__ = "grading_labs"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    course_slug: Mapped[str] = mapped_column(String(80), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    points: Mapped[float] = mapped_column(default=0.0)
    pass_mark: Mapped[float] = mapped_column(default=0.0)  # points needed to pass, unless pass_percent is set
    pass_percent: Mapped[float | None] = mapped_column()  # "60%" in lab.yaml
    scenario: Mapped[str] = mapped_column(String(80), default="")
    seed_policy: Mapped[str] = mapped_column(String(20), default="per-trainee")  # per-trainee | fixed
    fixed_seed: Mapped[int | None] = mapped_column()
    duration_s: Mapped[int] = mapped_column(default=600)
    time_limit_s: Mapped[int] = mapped_column(default=60)
    memory_mb: Mapped[int] = mapped_column(default=512)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late_policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notebooks: Mapped[list[str]] = mapped_column(JSON, default=list)  # notebook names without .ipynb
    cell_ids: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)  # notebook -> nbgrader cell ids
    test_cells: Mapped[list[str]] = mapped_column(JSON, default=list)  # grade ids of the auto-graded cells
    source_dir: Mapped[str] = mapped_column(Text, default="")  # where the source notebooks are read from
    source_hash: Mapped[str] = mapped_column(String(64), default="")  # hash of notebooks (test suite)
    built_hash: Mapped[str] = mapped_column(String(64), default="")  # source_hash of the last good build
    build_error: Mapped[str] = mapped_column(Text, default="")
    built_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived: Mapped[bool] = mapped_column(default=False)

    @property
    def key(self) -> str:
        return f"{self.course_slug}/{self.slug}"


class Submission(db.Model):
    """Stored before anything else happens; the file it names is never rewritten."""

    __tablename__ = "grading_submissions"
    __table_args__ = (UniqueConstraint("lab_id", "user_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("grading_labs.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column()
    filename: Mapped[str] = mapped_column(String(255), default="")
    path: Mapped[str] = mapped_column(Text)  # relative to the submissions store
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    seed: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)

    lab = relationship("Lab")
    jobs = relationship("GradingJob", back_populates="submission", order_by="GradingJob.id")
    grades = relationship("Grade", back_populates="submission", order_by="Grade.id")


class GradingJob(db.Model):
    """One grading run. The row, not the queue message, is the truth: an expired lease means the worker died."""

    __tablename__ = "grading_jobs"
    __table_args__ = (Index("ix_grading_jobs_status_lease", "status", "lease_until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("grading_submissions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="auto")  # auto | regrade
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    worker: Mapped[str] = mapped_column(String(120), default="")
    progress: Mapped[str] = mapped_column(String(120), default="")
    error: Mapped[str] = mapped_column(Text, default="")

    submission = relationship("Submission", back_populates="jobs")


class Grade(db.Model):
    """Result of one job; manual overrides are stored beside the automatic score, never over it."""

    __tablename__ = "grading_grades"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("grading_submissions.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("grading_jobs.id", ondelete="SET NULL"))
    auto_score: Mapped[float] = mapped_column(default=0.0)
    late_penalty: Mapped[float] = mapped_column(default=0.0)
    max_score: Mapped[float] = mapped_column(default=0.0)
    override_score: Mapped[float | None] = mapped_column()
    override_reason: Mapped[str] = mapped_column(Text, default="")
    overridden_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cells: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # per test cell scores
    feedback: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # sanitised cells for the trainee
    messages: Mapped[list[str]] = mapped_column(JSON, default=list)  # timeouts, limits, kernel deaths
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    graded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission = relationship("Submission", back_populates="grades")

    @property
    def score(self) -> float:
        if self.override_score is not None:
            return self.override_score
        return max(0.0, round(self.auto_score - self.late_penalty, 4))
