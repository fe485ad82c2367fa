"""Writes: importing and building labs, storing submissions, running jobs, regrades and overrides.

Every function adds to the current session; the caller (request, CLI command or job) commits once,
except run_job which is itself a job and commits its claim and its result."""
from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import nbformat
from flask import current_app
from flask_babel import gettext as _, ngettext
from sqlalchemy import select, update

from lms.core.audit import record
from lms.core.exceptions import NotAllowed, UserError
from lms.extensions import db
from lms.models._types import utcnow

from . import labspec, queries, sandbox
from .facade import BuildError, CourseGrader, RunResult, nbgrader_version
from .models import FAILED, GRADED, GRADING, QUEUED, Grade, GradingJob, Lab, Submission


# -- labs -----------------------------------------------------------------------------------------------
def grader_for(course_slug: str, app=None) -> CourseGrader:
    app = app or current_app
    root = Path(app.config["GRADING_DIR"]) / "courses" / course_slug
    project = Path(__file__).resolve().parent.parent
    return CourseGrader(root, course_slug, allow_unsafe=app.config["GRADING_ALLOW_UNSAFE"],
                        extra_ro=sandbox.extra_readonly_paths(project),
                        max_output_bytes=app.config["GRADING_MAX_OUTPUT_BYTES"])


def import_course_labs(course_dir: Path, course, session) -> list[Lab]:
    """Called on lms.signals.course_imported: upsert the course's labs in the import's transaction."""
    specs = labspec.discover(Path(course_dir))  # UserError("file:line: message") aborts the import
    session.flush()
    existing = {lab.slug: lab for lab in session.scalars(select(Lab).where(Lab.course_id == course.id))}
    labs = []
    for spec in specs:
        lab = existing.pop(spec.slug, None) or Lab(course_id=course.id, slug=spec.slug)
        _apply_spec(lab, spec, course.slug)
        session.add(lab)
        labs.append(lab)
    for gone in existing.values():
        gone.archived = True
    return labs


def _apply_spec(lab: Lab, spec: labspec.LabSpec, course_slug: str) -> None:
    source_hash = spec.source_hash()
    lab.course_slug, lab.title, lab.scenario = course_slug, spec.title, spec.scenario
    lab.seed_policy, lab.fixed_seed, lab.duration_s = spec.seed_policy, spec.fixed_seed, spec.duration_s
    lab.time_limit_s, lab.memory_mb, lab.due_at = spec.time_limit_s, spec.memory_mb, spec.due_at
    lab.late_policy, lab.notebooks, lab.archived = spec.late_policy, spec.notebooks, False
    if isinstance(spec.pass_mark, str):
        lab.pass_percent, lab.pass_mark = float(spec.pass_mark[:-1]), 0.0
    else:
        lab.pass_percent, lab.pass_mark = None, float(spec.pass_mark)
    if lab.source_hash != source_hash or not lab.source_dir:
        lab.source_dir, lab.source_hash = str(spec.directory.resolve()), source_hash
    if spec.points:
        lab.points = spec.points


def lab_env(lab: Lab, seed: int, trainee: str) -> dict[str, str]:
    return {"NIA_LAB_SEED": str(seed), "NIA_LAB_SCENARIO": lab.scenario, "NIA_LAB_TRAINEE": trainee,
            "NIA_LAB_DURATION_S": str(lab.duration_s), "NIA_LAB": lab.key}


AUTHOR_SEED = 424242


def build_lab(lab: Lab, source_dir: Path | None = None) -> dict[str, Any]:
    """Generate the release and run the authoring check; records the outcome on the lab row."""
    source = Path(source_dir or lab.source_dir)
    grader = grader_for(lab.course_slug)
    try:
        outcome = grader.build(lab.slug, source, lab.notebooks, seed=AUTHOR_SEED,
                               env=lab_env(lab, AUTHOR_SEED, "author"), time_limit_s=lab.time_limit_s,
                               memory_mb=lab.memory_mb)
    except (BuildError, sandbox.SandboxUnavailable) as error:
        lab.build_error = str(error)
        raise BuildError(f"{lab.key}: {error}") from None
    lab.points = outcome["points"]
    lab.test_cells = outcome["cells"]
    lab.cell_ids = {nb: _cell_ids(grader.release_notebook(lab.slug, nb)) for nb in lab.notebooks}
    lab.built_hash, lab.build_error, lab.built_at = lab.source_hash, "", utcnow()
    if source_dir is not None:
        lab.source_dir = str(source_dir)
    return outcome


def _cell_ids(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")]


def ensure_built(lab: Lab) -> None:
    if lab.built_hash != lab.source_hash or not grader_for(lab.course_slug).is_built(lab.slug):
        build_lab(lab)


def upload_source(lab: Lab, filename: str, content: bytes, user) -> dict[str, Any]:
    """Instructor upload of a source notebook: accepted only if the authoring check passes."""
    notebook_name = Path(filename or "").stem
    if notebook_name not in lab.notebooks:
        raise UserError(_("The file must be named after one of the lab's notebooks: %(names)s",
                          names=", ".join(f"{n}.ipynb" for n in lab.notebooks)))
    _parse_notebook(content)
    store = Path(current_app.config["GRADING_DIR"]) / "uploads" / lab.course_slug / lab.slug
    digest = hashlib.sha256(content).hexdigest()
    target = store / digest[:16]
    if not target.exists():
        import shutil

        shutil.copytree(lab.source_dir, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        (target / f"{notebook_name}.ipynb").write_bytes(content)
    old = (lab.source_hash, lab.source_dir)
    lab.source_hash = labspec.LabSpec(slug=lab.slug, directory=target, title=lab.title, pass_mark=0,
                                      notebooks=lab.notebooks).source_hash()
    try:
        outcome = build_lab(lab, target)
    except BuildError:
        lab.source_hash, lab.source_dir = old
        raise
    record("grading.source_uploaded", lab.key, actor_id=user.id, sha256=digest, points=outcome["points"])
    return outcome


# -- submissions ----------------------------------------------------------------------------------------
def _parse_notebook(content: bytes):
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise UserError(_("This file is not a Jupyter notebook (it is not valid JSON text).")) from None
    if not isinstance(data, dict) or "cells" not in data or "nbformat" not in data:
        raise UserError(_("This file is JSON but not a Jupyter notebook (no cells or nbformat)."))
    if data.get("nbformat") != 4:
        raise UserError(_("Notebook format %(v)s is not supported; save it with Jupyter 4 or later (nbformat 4).",
                          v=data.get("nbformat")))
    try:
        nb = nbformat.reads(content.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # nbformat raises several kinds
        raise UserError(_("The notebook is damaged: %(error)s", error=str(error).splitlines()[0][:200])) from None
    return nb


def _match_notebook(lab: Lab, nb) -> str:
    ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
    best = max(lab.notebooks, key=lambda name: len(ids & set(lab.cell_ids.get(name, []))))
    if not ids & set(lab.cell_ids.get(best, [])):
        raise UserError(_("This notebook is not from the lab “%(lab)s”: none of its cells belong to this lab. "
                          "Download the lab notebook from this page and work in that one.", lab=lab.title))
    return best


def store_file(content: bytes) -> tuple[str, str]:
    """Content-addressed, written once, read-only: returns (sha256, relative path)."""
    digest = hashlib.sha256(content).hexdigest()
    relative = f"{digest[:2]}/{digest}.ipynb"
    path = Path(current_app.config["GRADING_DIR"]) / "submissions" / relative
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o444)
        os.replace(tmp, path)
    return digest, relative


def submit(user, lab: Lab, filename: str, content: bytes) -> tuple[Submission, bool]:
    """Store first, then validate and queue. Returns (submission, created); identical resubmits are not regraded."""
    if lab.archived:
        raise UserError(_("This lab is closed."))
    if not queries.can_submit(user, lab):
        raise NotAllowed(_("Only trainees enrolled in this course can submit."))
    limit = current_app.config["GRADING_MAX_UPLOAD_BYTES"]
    if len(content) > limit:
        raise UserError(_("The notebook is %(size)s KB; the limit is %(limit)s KB. Clear large outputs and try again.",
                          size=len(content) // 1024, limit=limit // 1024))
    if not content:
        raise UserError(_("The file is empty."))
    digest, relative = store_file(content)
    existing = db.session.scalar(select(Submission).where(
        Submission.lab_id == lab.id, Submission.user_id == user.id, Submission.sha256 == digest))
    if existing is not None:
        return existing, False
    submission = Submission(lab_id=lab.id, user_id=user.id, sha256=digest, size=len(content),
                            filename=(filename or "")[:255], path=relative, seed=queries.trainee_seed(lab, user.id),
                            submitted_at=utcnow())
    db.session.add(submission)
    db.session.flush()
    try:
        _match_notebook(lab, _parse_notebook(content)) if lab.cell_ids else _parse_notebook(content)
    except UserError as error:
        submission.status = FAILED
        db.session.add(GradingJob(submission_id=submission.id, status=FAILED, error=error.message,
                                  finished_at=utcnow()))
        record("grading.submission_rejected", f"submission:{submission.id}", actor_id=user.id, reason=error.message)
        return submission, True
    db.session.add(GradingJob(submission_id=submission.id, kind="auto"))
    record("grading.submitted", f"submission:{submission.id}", actor_id=user.id, sha256=digest, lab=lab.key)
    return submission, True


def enqueue_pending(submission: Submission) -> None:
    """After commit: hand queued jobs to the queue (the reaper repairs a failure)."""
    from .queue import enqueue

    for job in submission.jobs:
        if job.status == QUEUED:
            enqueue(job.id)


def regrade(submission: Submission, user) -> GradingJob:
    job = GradingJob(submission_id=submission.id, kind="regrade", requested_by=user.id)
    submission.status = QUEUED
    db.session.add(job)
    db.session.flush()
    record("grading.regrade_requested", f"submission:{submission.id}", actor_id=user.id)
    return job


def override(grade: Grade, score: float, reason: str, user) -> None:
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise UserError(_("Give a reason for the override (at least 5 characters)."), field="reason")
    if not 0 <= score <= grade.max_score:
        raise UserError(_("The score must be between 0 and %(max)s.", max=grade.max_score), field="score")
    before = grade.score
    grade.override_score, grade.override_reason, grade.overridden_by = score, reason, user.id
    record("grading.override", f"submission:{grade.submission_id}", actor_id=user.id, before=before,
           after=score, reason=reason)


def late_penalty(lab: Lab, submitted_at: datetime, score: float) -> tuple[float, str]:
    if not lab.due_at or submitted_at <= lab.due_at or score <= 0:
        return 0.0, ""
    days = math.ceil((submitted_at - lab.due_at) / timedelta(days=1))
    policy = lab.late_policy or {}
    max_days = policy.get("max_days")
    if max_days is not None and days > max_days:
        return score, ngettext("Submitted %(num)d day late, after the last accepted day: no marks.",
                                "Submitted %(num)d days late, after the last accepted day: no marks.", days)
    percent = min(100.0, float(policy.get("per_day_percent", 0)) * days)
    penalty = round(score * percent / 100.0, 4)
    if not penalty:
        return penalty, ""
    return penalty, ngettext("Submitted %(num)d day late: %(p)s%% deducted.",
                             "Submitted %(num)d days late: %(p)s%% deducted.", days, p=f"{percent:g}")


# -- jobs -----------------------------------------------------------------------------------------------
def claim(job_id: int, worker: str) -> GradingJob | None:
    """Atomically take a queued job (or one whose worker's lease expired)."""
    now = utcnow()
    lease = now + timedelta(seconds=current_app.config["GRADING_LEASE_S"])
    result = db.session.execute(
        update(GradingJob).where(GradingJob.id == job_id).where(
            (GradingJob.status == QUEUED) | ((GradingJob.status == GRADING) & (GradingJob.lease_until < now)))
        .values(status=GRADING, attempts=GradingJob.attempts + 1, started_at=now, lease_until=lease,
                worker=worker[:120], progress="starting").execution_options(synchronize_session=False))
    db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.get(GradingJob, job_id, populate_existing=True)


def renew_lease(job_id: int, progress: str | None = None) -> None:
    values: dict[str, Any] = {"lease_until": utcnow() + timedelta(seconds=current_app.config["GRADING_LEASE_S"])}
    if progress:
        values["progress"] = progress
    with db.engine.begin() as connection:
        connection.execute(update(GradingJob).where(GradingJob.id == job_id, GradingJob.status == GRADING)
                           .values(**values))


def fail_job(job: GradingJob, message: str) -> None:
    job.status, job.error, job.finished_at, job.progress = FAILED, message, utcnow(), ""
    job.submission.status = FAILED if not job.submission.grades else GRADED


def store_result(job: GradingJob, result: RunResult) -> Grade:
    submission, lab = job.submission, job.submission.lab
    penalty, note = late_penalty(lab, submission.submitted_at, result.score)
    grade = Grade(submission_id=submission.id, job_id=job.id, auto_score=result.score, late_penalty=penalty,
                  max_score=result.max_score, cells=result.cells, feedback=result.feedback,
                  messages=result.messages + ([note] if note else []), graded_at=utcnow(),
                  provenance={"nbgrader": nbgrader_version(), "test_suite_sha256": lab.built_hash,
                              "seed": submission.seed, "scenario": lab.scenario, "sandbox": result.profile,
                              "duration_s": result.duration_s, "worker": job.worker, "attempt": job.attempts,
                              "submission_sha256": submission.sha256, "kind": job.kind})
    db.session.add(grade)
    job.status, job.finished_at, job.progress, job.error = GRADED, utcnow(), "", ""
    submission.status = GRADED
    record("grading.graded", f"submission:{submission.id}", actor_id=job.requested_by, score=grade.score,
           max_score=grade.max_score, job=job.id, kind=job.kind)
    return grade
