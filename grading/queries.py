"""Reads: labs, submissions, results, seeds, the gradebook, and the interfaces other packages call."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.orm import aliased

from lms.extensions import db
from lms.models import Course, Enrolment, User

from .models import GRADED, QUEUED, Grade, GradingJob, Lab, Submission


def trainee_seed(lab: Lab, user_id: int) -> int:
    """The seed of this trainee's scenario for this lab: stable, different per trainee (unless lab.yaml fixes it).
    The lab launcher uses the same value so the live line and the offline replay agree."""
    if lab.seed_policy == "fixed" and lab.fixed_seed is not None:
        return lab.fixed_seed
    digest = hashlib.sha256(f"nia-lab-seed:{lab.course_slug}:{lab.slug}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 2**31


def pass_points(lab: Lab) -> float:
    return round(lab.points * lab.pass_percent / 100.0, 4) if lab.pass_percent is not None else lab.pass_mark


def is_enrolled(user_id: int, lab: Lab) -> bool:
    try:  # the LMS's own rule (active enrolment statuses) when the learning package is present
        from lms.learning.queries import is_enrolled as lms_is_enrolled
    except ImportError:
        return db.session.scalar(select(func.count(Enrolment.id)).where(
            Enrolment.user_id == user_id, Enrolment.course_id == lab.course_id,
            Enrolment.status != "withdrawn")) > 0
    return bool(lms_is_enrolled(user_id, lab.course_slug))


def can_view_lab(user, lab: Lab) -> bool:
    return bool(user.is_staff or is_enrolled(user.id, lab))


def can_submit(user, lab: Lab) -> bool:
    return is_enrolled(user.id, lab)


def get_lab(course_slug: str, lab_slug: str) -> Lab | None:
    return db.session.scalar(select(Lab).where(Lab.course_slug == course_slug, Lab.slug == lab_slug,
                                               Lab.archived.is_(False)))


def course_labs(course_slug: str) -> list[Lab]:
    return list(db.session.scalars(select(Lab).where(Lab.course_slug == course_slug, Lab.archived.is_(False))
                                   .order_by(Lab.slug)))


def labs_for_user(user) -> list[Lab]:
    query = select(Lab).where(Lab.archived.is_(False)).order_by(Lab.course_slug, Lab.slug)
    if not user.is_staff:
        query = query.join(Enrolment, (Enrolment.course_id == Lab.course_id) & (Enrolment.user_id == user.id)) \
            .where(Enrolment.status != "withdrawn")
    return list(db.session.scalars(query))


def all_labs() -> list[Lab]:
    return list(db.session.scalars(select(Lab).order_by(Lab.course_slug, Lab.slug)))


def user_submissions(lab: Lab, user_id: int) -> list[Submission]:
    return list(db.session.scalars(select(Submission).where(Submission.lab_id == lab.id,
                                                            Submission.user_id == user_id)
                                   .order_by(Submission.id.desc())))


def visible_submission(submission_id: int, user) -> Submission | None:
    """A trainee sees only their own submissions (others are a 404); staff see all."""
    submission = db.session.get(Submission, submission_id)
    if submission is None or (submission.user_id != user.id and not user.is_staff):
        return None
    return submission


def latest_grade(submission: Submission) -> Grade | None:
    return submission.grades[-1] if submission.grades else None


def latest_job(submission: Submission) -> GradingJob | None:
    return submission.jobs[-1] if submission.jobs else None


def submission_bytes(submission: Submission) -> bytes:
    path = Path(current_app.config["GRADING_DIR"]) / "submissions" / submission.path
    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != submission.sha256:
        raise RuntimeError(f"stored submission {submission.id} does not match its sha256")
    return content


def status_payload(submission: Submission) -> dict[str, Any]:
    job, grade = latest_job(submission), latest_grade(submission)
    position = None
    if job is not None and job.status == QUEUED:
        position = db.session.scalar(select(func.count(GradingJob.id)).where(
            GradingJob.status == QUEUED, GradingJob.id < job.id)) + 1
    return {"id": submission.id, "status": job.status if job else submission.status,
            "progress": job.progress if job else "", "queue_position": position,
            "error": job.error if job else "", "attempts": job.attempts if job else 0,
            "score": grade.score if grade else None, "max_score": grade.max_score if grade else None,
            "final": bool(job is None or job.status not in ("queued", "grading"))}


def best_grades(lab_ids: list[int], user_ids: list[int] | None = None) -> dict[tuple[int, int], Grade]:
    """(lab_id, user_id) -> the best current grade (latest grade per submission, best submission)."""
    if not lab_ids:
        return {}
    latest = select(func.max(Grade.id)).group_by(Grade.submission_id)
    query = select(Grade, Submission).join(Submission, Grade.submission_id == Submission.id) \
        .where(Grade.id.in_(latest), Submission.lab_id.in_(lab_ids))
    if user_ids is not None:
        query = query.where(Submission.user_id.in_(user_ids))
    best: dict[tuple[int, int], Grade] = {}
    for grade, submission in db.session.execute(query):
        key = (submission.lab_id, submission.user_id)
        if key not in best or grade.score > best[key].score:
            best[key] = grade
    return best


def lab_fingerprint() -> tuple:
    """Scalar expressions that change when a lab's points or pass mark change (a build, an upload, an import)."""
    return tuple(select(expression).scalar_subquery() for expression in (
        func.count(Lab.id), func.max(Lab.built_at), func.sum(Lab.points), func.sum(Lab.pass_mark),
        func.sum(func.coalesce(Lab.pass_percent, 0.0)), func.sum(Lab.archived.cast(Integer))))


def completion_evidence(user_id: int, course_slug: str) -> list[dict[str, Any]]:
    """Registered with lms.core.registry: every lab of the course with this trainee's best result.

    Runs on every lesson and course page of a course with labs, so it is one prebuilt statement that reads only
    this trainee's submissions (one row per lab and submission, with that submission's latest grade)."""
    by_lab: dict[int, dict[str, Any]] = {}
    for row in db.session.execute(_evidence_statement(), {"user_id": user_id, "course_slug": course_slug}):
        entry = by_lab.get(row.id)
        if entry is None:
            passing = round(row.points * row.pass_percent / 100.0, 4) if row.pass_percent is not None \
                else row.pass_mark
            entry = by_lab[row.id] = {"type": "lab", "slug": row.slug, "title": row.title, "score": None,
                                      "max_score": row.points, "passed": False, "graded_at": None,
                                      "_pass": passing}
        if row.grade_id is None:
            continue
        score = row.override_score if row.override_score is not None \
            else max(0.0, round(row.auto_score - row.late_penalty, 4))  # as Grade.score
        if entry["score"] is None or score > entry["score"]:
            entry.update(score=score, graded_at=row.graded_at.isoformat(), passed=score >= entry["_pass"])
    evidence = sorted(by_lab.values(), key=lambda e: e["slug"])
    for entry in evidence:
        del entry["_pass"]
    return evidence


_EVIDENCE: list = []


def _evidence_statement():
    if not _EVIDENCE:
        newer = aliased(Grade)
        latest = select(func.max(newer.id)).where(newer.submission_id == Submission.id).correlate(Submission) \
            .scalar_subquery()
        _EVIDENCE.append(
            select(Lab.id, Lab.slug, Lab.title, Lab.points, Lab.pass_mark, Lab.pass_percent,
                   Grade.id.label("grade_id"), Grade.auto_score, Grade.late_penalty, Grade.override_score,
                   Grade.graded_at)
            .outerjoin(Submission, (Submission.lab_id == Lab.id) & (Submission.user_id == bindparam("user_id")))
            .outerjoin(Grade, (Grade.submission_id == Submission.id) & (Grade.id == latest))
            .where(Lab.course_slug == bindparam("course_slug"), Lab.archived.is_(False)))
    return _EVIDENCE[0]


def gradebook_columns(course_slug: str, user_ids: list[int]) -> tuple[list[str], dict[int, dict[str, Any]]]:
    labs = course_labs(course_slug)
    grades = best_grades([lab.id for lab in labs], user_ids)
    columns = [f"{lab.title} (/{lab.points:g})" for lab in labs]
    cells: dict[int, dict[str, Any]] = {uid: {} for uid in user_ids}
    for lab, column in zip(labs, columns):
        for uid in user_ids:
            grade = grades.get((lab.id, uid))
            cells[uid][column] = grade.score if grade else None
    return columns, cells


def gradebook(course_slug: str) -> tuple[list[Lab], list[User], dict[tuple[int, int], Grade]]:
    course = db.session.scalar(select(Course).where(Course.slug == course_slug))
    labs = course_labs(course_slug)
    if course is None:
        return labs, [], {}
    users = list(db.session.scalars(select(User).join(Enrolment, Enrolment.user_id == User.id)
                                    .where(Enrolment.course_id == course.id).order_by(User.name)))
    return labs, users, best_grades([lab.id for lab in labs], [u.id for u in users])


def counts() -> dict[str, int]:
    rows = db.session.execute(select(GradingJob.status, func.count(GradingJob.id)).group_by(GradingJob.status))
    return {status: n for status, n in rows}


__all__ = ["GRADED", "trainee_seed", "completion_evidence", "gradebook_columns", "visible_submission"]
