"""The job queue: huey on SQLite (embedded default, no server) or Redis (GRADING_REDIS_URL).

Queue messages only carry a job id. The grading_jobs row is the truth: a lost message or a dead worker is
repaired by requeue_stale(), and a duplicate message is harmless because a job is claimed atomically."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app

TASK_NAME = "grading.run_job"


def get_huey(app: Flask | None = None):
    app = app or current_app._get_current_object()
    existing = app.extensions.get("grading.huey")
    if existing is not None:
        return existing
    from huey import RedisHuey, SqliteHuey

    if app.config["GRADING_REDIS_URL"]:
        huey = RedisHuey("nia-grading", url=app.config["GRADING_REDIS_URL"], results=False, blocking=True,
                         read_timeout=1)
    else:
        path = Path(app.config["GRADING_DIR"]) / "queue.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey("nia-grading", filename=str(path), results=False, timeout=10)
    task = huey.task(name=TASK_NAME)(_run_from_queue)
    app.extensions["grading.huey"] = huey
    app.extensions["grading.task"] = task
    return huey


def _run_from_queue(job_id: int) -> None:
    from .worker import run_in_worker

    run_in_worker(job_id)


def enqueue(job_id: int, app: Flask | None = None) -> bool:
    """Returns False (and leaves the job for the reaper) when the queue backend is unreachable."""
    app = app or current_app._get_current_object()
    get_huey(app)
    try:
        app.extensions["grading.task"](job_id)
        return True
    except Exception as error:  # Redis down: the job row stays 'queued' and requeue_stale() retries
        app.logger.error("grading: could not enqueue job %s: %s", job_id, error)
        return False


def pending(app: Flask | None = None) -> int | None:
    try:
        return get_huey(app).pending_count()
    except Exception:
        return None


def backend_name(app: Flask) -> str:
    return "redis" if app.config["GRADING_REDIS_URL"] else "sqlite"


def describe(app: Flask) -> dict[str, Any]:
    return {"backend": backend_name(app), "pending_messages": pending(app)}
