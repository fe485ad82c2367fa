"""Grading: submit -> graded latency through the queue on an idle worker (sandboxed kernel) as a ratio to a bare
in-process NbGraderAPI.autograde of the same notebook (default kernel, no sandbox) in the same run, and the
throughput of N queued submissions with 1 and 2 worker processes (every one graded exactly once).

    python -m benchmarks.grading [--latency 7] [--count 100]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from benchmarks._util import ROOT, table

LAB = ROOT / "tests" / "grading" / "data" / "course" / "labs" / "oee-shift"
SOLUTION = ('def availability(planned_min, downtime_min):\n    return (planned_min - downtime_min) / planned_min\n\n\n'
            'def oee(planned_min, downtime_min, ideal_cycle_s, total_parts, good_parts):\n'
            '    run_min = planned_min - downtime_min\n'
            '    return (run_min / planned_min) * (ideal_cycle_s * total_parts / (run_min * 60)) * '
            '(good_parts / total_parts)\n')


def _settings(instance: Path) -> dict[str, str]:
    return {"NIA_ENV": "production", "NIA_SECRET_KEY": "bench-secret-key-0123456789abcdef",
            "NIA_INSTANCE_DIR": str(instance), "NIA_DATABASE_URL": f"sqlite:///{instance}/bench.db",
            "NIA_GRADING_DIR": str(instance / "grading"), "NIA_GRADING_POLL_S": "0.1"}


def _notebook(release: Path, tag: str) -> bytes:
    nb = json.loads(release.read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "answers":
            cell["source"] = SOLUTION + f"# {tag}\n"
    return json.dumps(nb).encode()


class _Bare:
    """The baseline: nbgrader as documented, in-process, default kernel, one student per run."""

    def __init__(self, work: Path):
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config

        os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        self.work, self.runs = work, 0
        self.config = Config()
        self.config.CourseDirectory.root = str(work)
        self.config.CourseDirectory.course_id = "bench"
        (work / "exchange").mkdir(parents=True)
        self.config.Exchange.root = str(work / "exchange")
        shutil.copytree(LAB, work / "source" / "oee-shift", ignore=shutil.ignore_patterns("lab.yaml"))
        self._coursedir = CourseDirectory
        assert self._api().generate_assignment("oee-shift")["success"]

    def _api(self):
        from nbgrader.apps import NbGraderAPI

        return NbGraderAPI(coursedir=self._coursedir(config=self.config), config=self.config)

    def autograde(self, content: bytes) -> float:
        self.runs += 1
        student = f"bare{self.runs}"
        target = self.work / "submitted" / student / "oee-shift"
        target.mkdir(parents=True)
        (target / "oee-shift.ipynb").write_bytes(content)
        started = time.perf_counter()
        result = self._api().autograde("oee-shift", student)
        elapsed = time.perf_counter() - started
        assert result["success"], result.get("error")
        return elapsed


def _setup(instance: Path):
    for key, value in _settings(instance).items():
        os.environ[key] = value
    from grading import operations
    from lms import create_app
    from lms.extensions import db
    from lms.models import Course, Enrolment, User

    app = create_app()
    with app.app_context():
        db.create_all()
        course = Course(slug="bench-course", title="Benchmark course")
        db.session.add(course)
        db.session.flush()
        labs = operations.import_course_labs(LAB.parent.parent, course, db.session)
        users = [User(email=f"b{i}@example.test", name=f"Trainee {i}", password_hash="x") for i in range(10)]
        db.session.add_all(users)
        db.session.flush()
        db.session.add_all(Enrolment(user_id=u.id, course_id=course.id, status="active") for u in users)
        operations.build_lab(labs[0])
        db.session.commit()
        release = operations.grader_for("bench-course").release_notebook("oee-shift", "oee-shift")
        return app, [u.id for u in users], release


def _start_workers(instance: Path, n: int) -> list[subprocess.Popen]:
    env = {**os.environ, **_settings(instance)}
    log = open(instance / "workers.log", "ab")  # noqa: SIM115
    workers = [subprocess.Popen([sys.executable, "-m", "grading", "worker"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT) for _ in range(n)]
    log.close()
    return workers


def _stop(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        w.send_signal(signal.SIGINT)
    for w in workers:
        try:
            w.wait(timeout=20)
        except subprocess.TimeoutExpired:
            w.kill()


def _submit(app, user_id: int, content: bytes) -> int:
    from grading import operations
    from grading.models import Lab
    from lms.extensions import db
    from lms.models import User

    with app.app_context():
        user = db.session.get(User, user_id)
        submission, _ = operations.submit(user, db.session.scalar(db.select(Lab)), "oee-shift.ipynb", content)
        db.session.commit()
        operations.enqueue_pending(submission)
        return submission.id


def _wait_graded(app, ids: list[int], timeout: float) -> dict[str, int]:
    from grading.models import Submission
    from lms.extensions import db

    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            rows = db.session.execute(db.select(Submission.status, db.func.count()).where(Submission.id.in_(ids))
                                      .group_by(Submission.status)).all()
            db.session.remove()
        counts = {status: n for status, n in rows}
        if counts.get("graded", 0) + counts.get("error", 0) == len(ids) or time.monotonic() > deadline:
            return counts
        time.sleep(0.02)


def _throughput(app, instance, users, release, workers_n: int, count: int, tag: str):
    workers = _start_workers(instance, workers_n)
    try:
        warm = [_submit(app, users[i % len(users)], _notebook(release, f"{tag}-warm{i}")) for i in range(workers_n)]
        _wait_graded(app, warm, 120)
        contents = [_notebook(release, f"{tag}-{i}") for i in range(count)]
        started = time.perf_counter()
        ids = [_submit(app, users[i % len(users)], c) for i, c in enumerate(contents)]
        counts = _wait_graded(app, ids, 60 + 10 * count)
        elapsed = time.perf_counter() - started
    finally:
        _stop(workers)
    return elapsed, counts, ids


def _exactly_once(app, ids: list[int]) -> bool:
    from grading.models import Grade
    from lms.extensions import db

    with app.app_context():
        per = dict(db.session.execute(db.select(Grade.submission_id, db.func.count()).where(
            Grade.submission_id.in_(ids)).group_by(Grade.submission_id)).all())
        scores = db.session.scalars(db.select(Grade.auto_score).where(Grade.submission_id.in_(ids))).all()
    return len(per) == len(ids) and set(per.values()) == {1} and set(scores) == {5.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.grading", description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=int, default=7, help="latency samples (default 7)")
    parser.add_argument("--count", type=int, default=100, help="queued submissions per throughput run")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    import logging

    logging.getLogger("traitlets").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="nia-bench-grading-") as tmp:
        instance = Path(tmp)
        app, users, release = _setup(instance)
        sample = _notebook(release, "bare")
        baseline = _Bare(instance / "bare-course")
        baseline.autograde(sample)  # warm imports and the gradebook
        workers = _start_workers(instance, 1)
        bare, latencies = [], []
        try:
            _wait_graded(app, [_submit(app, users[0], _notebook(release, "warm"))], 120)
            for i in range(args.latency):  # interleaved, so machine load affects both alike
                bare.append(baseline.autograde(sample))
                time.sleep(0.5)  # the worker is idle, waiting on the queue
                started = time.perf_counter()
                sid = _submit(app, users[i % len(users)], _notebook(release, f"lat{i}"))
                _wait_graded(app, [sid], 120)
                latencies.append(time.perf_counter() - started)
        finally:
            _stop(workers)
        one = _throughput(app, instance, users, release, 1, args.count, "w1")
        two = _throughput(app, instance, users, release, 2, args.count, "w2")
        bare_med, lat_med = statistics.median(bare), statistics.median(latencies)
        print(f"grading benchmark: {args.latency} latency samples, {args.count} queued submissions per run; "
              f"sandbox {_profile()}")
        print(table([["bare NbGraderAPI.autograde (in-process, no sandbox)", f"{bare_med:.3f}", "1.00"],
                     ["submit -> graded via queue, idle worker, sandboxed", f"{lat_med:.3f}",
                      f"{lat_med / bare_med:.2f}"]], ["latency (median)", "seconds", "ratio to bare"]))
        rows = []
        for name, (elapsed, counts, ids) in (("1 worker", one), ("2 workers", two)):
            rows.append([name, f"{elapsed:.1f}", f"{len(ids) / elapsed:.2f}", f"{(len(ids) / elapsed) * bare_med:.2f}",
                         counts.get("graded", 0), "yes" if _exactly_once(app, ids) else "NO"])
        print(table(rows, ["throughput", "seconds", "graded/s", "ratio to bare serial", "graded",
                           "each exactly once"]))
        print(f"goal: latency ratio <= 1.3 -> {'met' if lat_med / bare_med <= 1.3 else 'NOT met'}; "
              f"2 workers / 1 worker = {one[0] / two[0]:.2f}x")
        ok = all(c[1].get("graded") == args.count for c in (one, two))
    return 0 if ok else 1


def _profile() -> str:
    from grading.sandbox import bwrap_problem, bwrap_profile

    return bwrap_profile() if bwrap_problem() is None else f"UNAVAILABLE ({bwrap_problem()})"


if __name__ == "__main__":
    sys.exit(main())
