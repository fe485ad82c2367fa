"""Running a grading job, and the worker process (`python -m grading worker`).

A job is claimed with a lease that a heartbeat thread renews; if the worker dies (kill -9, OOM, power), the
lease runs out and the reaper in any live worker puts the job back in the queue, up to GRADING_MAX_ATTEMPTS."""
from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from lms.core.exceptions import UserError
from lms.extensions import db
from lms.models._types import utcnow
from lms.signals import lab_graded, progress_changed

from . import operations, queries, sandbox
from .facade import BuildError
from .models import FAILED, GRADING, QUEUED, GradingJob

log = logging.getLogger("grading.worker")
_APP: Flask | None = None


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(job_id: int, worker: str | None = None) -> str:
    """Grade one job in the current app context. Returns the final status ('skipped' if not ours)."""
    app = current_app._get_current_object()
    job = operations.claim(job_id, worker or worker_name())
    if job is None:
        return "skipped"
    submission = job.submission
    if job.attempts > app.config["GRADING_MAX_ATTEMPTS"]:
        operations.fail_job(job, _("Grading stopped: the grading worker stopped during this job %(n)s times. "
                                   "An instructor can regrade it.", n=job.attempts - 1))
        db.session.commit()
        return FAILED
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(app, job_id, stop), daemon=True, name=f"lease-{job_id}")
    beat.start()
    try:
        lab = submission.lab
        operations.ensure_built(lab)
        db.session.commit()  # a (re)build is recorded even if grading fails below
        content = queries.submission_bytes(submission)
        nb = operations._parse_notebook(content)
        name = operations._match_notebook(lab, nb)
        user_key = trainee_name(submission.user_id)
        result = operations.grader_for(lab.course_slug).grade(
            lab.slug, f"s{submission.id}", {name: content}, seed=submission.seed,
            env=operations.lab_env(lab, submission.seed, user_key), time_limit_s=lab.time_limit_s,
            memory_mb=lab.memory_mb)
    except sandbox.SandboxUnavailable as error:
        log.critical("GRADING REFUSED for job %s: %s", job_id, error)
        return _finish_failed(job, str(error), stop, beat)
    except BuildError as error:
        log.error("grading: job %s: lab problem: %s", job_id, error)
        return _finish_failed(job, _("The lab could not be graded: %(error)s", error=str(error)), stop, beat)
    except Exception as error:
        if isinstance(error, UserError):  # the notebook itself is unusable
            return _finish_failed(job, error.message, stop, beat)
        log.exception("grading: job %s failed", job_id)
        return _finish_failed(job, _("Internal grading error (%(kind)s); the job can be regraded.",
                                     kind=type(error).__name__), stop, beat)
    stop.set()
    beat.join(timeout=5)
    grade = operations.store_result(job, result)
    db.session.commit()
    lab = submission.lab
    sender = app
    lab_graded.send(sender, user_id=submission.user_id, course_slug=lab.course_slug, lab_slug=lab.slug,
                    submission_id=submission.id, score=grade.score, max_score=grade.max_score,
                    passed=grade.score >= queries.pass_points(lab))
    progress_changed.send(sender, user_id=submission.user_id, course_id=lab.course_id)
    db.session.commit()  # what the receivers wrote: course completion and the certificate it issues
    return "graded"


def trainee_name(user_id: int) -> str:
    """The trainee id the simulated line uses (topic prefix and random streams), so the replay matches the line."""
    try:
        from virtual_lab.broker import trainee_name as line_name
    except ImportError:
        return f"u{user_id}"
    return line_name(user_id)


def _finish_failed(job: GradingJob, message: str, stop: threading.Event, beat: threading.Thread) -> str:
    stop.set()
    beat.join(timeout=5)
    db.session.rollback()
    job = db.session.get(GradingJob, job.id)
    operations.fail_job(job, message)
    db.session.commit()
    return FAILED


def _heartbeat(app: Flask, job_id: int, stop: threading.Event) -> None:
    interval = max(0.5, app.config["GRADING_LEASE_S"] / 3)
    with app.app_context():
        while not stop.wait(interval):
            try:
                operations.renew_lease(job_id)
            except Exception as error:  # the database blipped; the next beat retries
                log.warning("grading: lease renewal for job %s failed: %s", job_id, error)
        db.session.remove()


def requeue_stale(app: Flask) -> list[int]:
    """Put back jobs whose worker died, and re-send queued jobs whose message was lost."""
    from .queue import enqueue, pending

    now = utcnow()
    requeued: list[int] = []
    dead = db.session.scalars(select(GradingJob.id).where(GradingJob.status == GRADING,
                                                          GradingJob.lease_until < now)).all()
    for job_id in dead:
        db.session.execute(update(GradingJob).where(GradingJob.id == job_id, GradingJob.status == GRADING,
                                                    GradingJob.lease_until < now)
                           .values(status=QUEUED, progress="retrying after a worker stopped"))
        log.warning("grading: job %s lost its worker; requeued", job_id)
        requeued.append(job_id)
    db.session.commit()
    waiting = pending(app)
    if waiting == 0:  # the queue is empty but the database says work is waiting: the message was lost
        cutoff = now - timedelta(seconds=2)
        lost = db.session.scalars(select(GradingJob.id).where(GradingJob.status == QUEUED,
                                                              GradingJob.queued_at < cutoff)).all()
        requeued.extend(j for j in lost if j not in requeued)
    for job_id in requeued:
        enqueue(job_id, app)
    return requeued


def run_in_worker(job_id: int) -> None:
    """Entry point of the huey task inside the worker process."""
    app = _APP or current_app._get_current_object()
    with app.app_context():
        try:
            status = run_job(job_id)
            log.info("grading: job %s -> %s", job_id, status)
        finally:
            db.session.remove()


def _reaper(app: Flask, stop: threading.Event) -> None:
    interval = max(0.5, app.config["GRADING_LEASE_S"] / 2)
    while True:
        with app.app_context():
            try:
                requeue_stale(app)
            except Exception:
                log.exception("grading: reaper pass failed")
            finally:
                db.session.remove()
        if stop.wait(interval):
            return


def sweep_leftovers(app: Flask, older_than_s: float = 7200) -> int:
    """Remove scratch left by workers that were killed mid-job (no job runs longer than the 30 min cap)."""
    import glob
    import shutil
    import time

    cutoff, removed = time.time() - older_than_s, 0
    pattern = os.path.join(app.config["GRADING_DIR"], "courses", "*", "runs", "*")
    for path in glob.glob("/tmp/nia-k*") + glob.glob(pattern):
        try:
            if os.path.getmtime(path) < cutoff:
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
        except OSError:
            pass
    return removed


def main(argv: list[str] | None = None) -> int:
    """`python -m grading worker`: one grading job at a time in this process; start several for more."""
    global _APP
    from lms import create_app

    from .queue import get_huey

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("traitlets").setLevel(logging.WARNING)  # nbgrader's per-file INFO lines
    _APP = app = create_app()
    with app.app_context():
        state = sandbox.status(app.config["GRADING_ALLOW_UNSAFE"])
    if state["status"] == "down":
        log.critical("GRADING REFUSED: %s. Jobs will fail with this message until bubblewrap is installed "
                     "(or GRADING_ALLOW_UNSAFE=true on a development machine).", state["error"])
    elif state["status"] == "degraded":
        log.critical("%s", state["warning"])
    else:
        log.info("grading sandbox: %s", state["sandbox"])
    log.info("grading: removed %d leftover scratch directories", sweep_leftovers(app))
    huey = get_huey(app)
    stop = threading.Event()
    threading.Thread(target=_reaper, args=(app, stop), daemon=True, name="grading-reaper").start()
    poll = app.config["GRADING_POLL_S"]
    consumer = huey.create_consumer(workers=1, worker_type="thread", periodic=False, initial_delay=poll,
                                    backoff=1.0, max_delay=poll, check_worker_health=True)
    log.info("grading worker %s on %s queue", worker_name(), "redis" if app.config["GRADING_REDIS_URL"] else "sqlite")
    try:
        consumer.run()
    finally:
        stop.set()
    return 0
