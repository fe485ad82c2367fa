"""The Redis backend of the grading queue: a redis-server of our own on a free port, a real worker process.

Skipped only where no redis-server binary is installed (the SQLite queue is the embedded default)."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from tests.fixtures.grading import SOLUTION, with_answer
from tests.grading.test_queue import _submit, _wait, start_worker  # noqa: F401 - fixture reused

pytestmark = [pytest.mark.slow, pytest.mark.bwrap]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def redis_queue(app, redis_url, monkeypatch):
    """Points the app and the worker processes at Redis for one test, then restores the SQLite queue."""
    saved = {key: app.extensions.pop(key, None) for key in ("grading.huey", "grading.task")}
    monkeypatch.setitem(app.config, "GRADING_REDIS_URL", redis_url)
    monkeypatch.setenv("NIA_GRADING_REDIS_URL", redis_url)
    yield redis_url
    for key in ("grading.huey", "grading.task"):
        app.extensions.pop(key, None)
        if saved[key] is not None:
            app.extensions[key] = saved[key]


def test_jobs_go_through_redis_and_are_graded_once(app, grading_trainee, redis_queue, start_worker):
    import redis

    from grading.queue import backend_name, enqueue

    assert backend_name(app) == "redis"
    start_worker("worker-redis.log")
    job = _submit(app, grading_trainee, with_answer(app, SOLUTION))
    with app.app_context():
        enqueue(job, app)  # a duplicate message must not grade twice
    done = _wait(app, job, ("graded", "error"))
    assert done["status"] == "graded" and done["grades"] == [(5.0, [])] and done["attempts"] == 1
    assert redis.Redis.from_url(redis_queue).ping()


def test_redis_down_keeps_the_job_queued(app, grading_trainee, redis_queue, monkeypatch):
    from grading.queue import enqueue

    dead = f"redis://127.0.0.1:{_free_port()}/0"
    app.extensions.pop("grading.huey", None)
    app.extensions.pop("grading.task", None)
    monkeypatch.setitem(app.config, "GRADING_REDIS_URL", dead)
    job = _submit(app, grading_trainee, with_answer(app, SOLUTION))  # enqueue fails quietly inside
    with app.app_context():
        assert enqueue(job, app) is False
    assert _wait(app, job, ("queued",), timeout=5)["status"] == "queued"  # nothing lost: the reaper retries
