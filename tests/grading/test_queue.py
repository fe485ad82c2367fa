"""The persistent queue with real worker processes (`python -m grading worker`): grading through the queue,
duplicate messages, a hostile notebook that kills its kernel, and a worker killed mid-job (the job is retried)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.grading import SOLUTION, with_answer

pytestmark = [pytest.mark.slow, pytest.mark.bwrap]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def start_worker(app):
    started: list[subprocess.Popen] = []

    def _start(log_name: str = "worker.log") -> subprocess.Popen:
        env = {**os.environ, "NIA_ENV": "testing", "NIA_SECRET_KEY": app.config["SECRET_KEY"],
               "NIA_INSTANCE_DIR": app.instance_path, "NIA_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
               "NIA_GRADING_DIR": app.config["GRADING_DIR"], "NIA_GRADING_LEASE_S": "2",
               "NIA_GRADING_POLL_S": "0.1", "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
        log = open(Path(app.instance_path) / log_name, "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen([sys.executable, "-m", "grading", "worker"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        log.close()
        started.append(process)
        return process

    from grading.queue import get_huey

    with app.app_context():
        get_huey(app).flush()  # messages left by earlier tests in this session's queue file
    yield _start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in started:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _submit(app, user, content: bytes) -> int:
    from grading import operations
    from grading.models import Lab
    from lms.extensions import db

    with app.app_context():
        lab = db.session.scalar(db.select(Lab))
        submission, _ = operations.submit(user, lab, "oee-shift.ipynb", content)
        db.session.commit()
        operations.enqueue_pending(submission)
        return submission.jobs[-1].id


def _job(app, job_id: int):
    from grading.models import Grade, GradingJob
    from lms.extensions import db

    with app.app_context():
        job = db.session.get(GradingJob, job_id)
        grades = db.session.scalars(db.select(Grade).where(Grade.submission_id == job.submission_id)).all()
        result = {"status": job.status, "attempts": job.attempts, "error": job.error, "worker": job.worker,
                  "grades": [(g.score, g.messages) for g in grades]}
        db.session.remove()
        return result


def _wait(app, job_id: int, statuses: tuple[str, ...], timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _job(app, job_id)
        if state["status"] in statuses:
            return state
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {state} after {timeout} s; see worker.log in {app.instance_path}")


def test_worker_grades_from_queue_and_survives_a_kernel_killer(app, grading_trainee, start_worker):
    from grading.queue import enqueue

    worker = start_worker()
    killer = _submit(app, grading_trainee, with_answer(app, SOLUTION + "import os\nos._exit(9)\n"))
    good = _submit(app, grading_trainee, with_answer(app, SOLUTION))
    with app.app_context():
        enqueue(good, app)  # duplicate messages for the same job are harmless
        enqueue(good, app)
    killed = _wait(app, killer, ("graded", "error"))
    graded = _wait(app, good, ("graded", "error"))
    assert killed["status"] == "graded" and killed["grades"][0][0] == 0
    assert "exited with status 9" in " ".join(killed["grades"][0][1])
    assert graded["status"] == "graded" and graded["grades"] == [(5.0, [])] and graded["attempts"] == 1
    assert worker.poll() is None  # the worker survived


def test_worker_killed_mid_job_is_retried(app, grading_trainee, start_worker):
    first = start_worker("worker-1.log")
    job = _submit(app, grading_trainee, with_answer(app, SOLUTION + "import time\ntime.sleep(4)\n"))
    state = _wait(app, job, ("grading",))
    time.sleep(1.0)  # the kernel is now running the trainee's code
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert _job(app, job)["status"] == "grading"  # nobody finished it
    second = start_worker("worker-2.log")
    done = _wait(app, job, ("graded", "error"))
    assert done["status"] == "graded", done
    assert done["attempts"] == 2 and done["worker"].endswith(f":{second.pid}") and state["worker"].endswith(
        f":{first.pid}")
    assert [g[0] for g in done["grades"]] == [5.0]  # graded exactly once
