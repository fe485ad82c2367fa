"""Load: N simulated trainees at once against the real LMS under gunicorn (as `make run` serves it) with grading
workers: each registers, browses, enrols, reads the lessons, passes the quizzes and submits the labs (notebook
upload), then follows its submissions until graded. Loopback only; bounded by --timeout.

    python -m benchmarks load [--trainees 100] [--grading-workers 2] [--courses DIR] [--think 0.5]
                              [--postgres postgresql://…] [--redis-url redis://…] [--json FILE]

Checks: no request errors; no lost submission (every upload accepted, graded, exactly one grade each, full
marks with the reference solution); every quiz passed. Prints p50/p95/p99 per action for the crowd and, as the
benchmarks' baseline, one trainee alone in the same run (ratio = crowd p99 / alone p50). Exit 1 if a check fails.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import contextmanager, nullcontext
from pathlib import Path

from benchmarks._load_trainee import Course, Trainee
from benchmarks._util import ROOT, free_port, percentile, python, start_server, stop_server, table
from benchmarks.http import LAUNCHER_THREADS, LAUNCHER_WORKERS
from lms.launcher import gunicorn_options

DEFAULT_COURSE = ROOT / "tests" / "e2e" / "data" / "courses" / "line-reading"  # a lesson, a quiz and a lab


def _settings(work: Path, args: argparse.Namespace, database_url: str) -> dict[str, str]:
    """Production settings on throw-away storage; plain-HTTP cookies because the load stays on loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIA_") and k != "DATABASE_URL"}
    env.update({"NIA_ENV": "production", "NIA_SECRET_KEY": secrets.token_hex(32), "NIA_INSTANCE_DIR": str(work),
                "DATABASE_URL": database_url or f"sqlite:///{work / 'load.db'}",
                "NIA_GRADING_DIR": str(work / "grading"), "NIA_MAIL_BACKEND": "file",
                "NIA_SESSION_COOKIE_SECURE": "false", "NIA_REMEMBER_COOKIE_SECURE": "false",
                "NIA_LAB_STATE_DIR": str(work / "lab")})
    if args.redis_url:
        env["NIA_GRADING_REDIS_URL"] = args.redis_url
    return env


@contextmanager
def _private_database(server_url: str):
    """A database of our own on the PostgreSQL server named by `server_url`, dropped afterwards."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"nia_load_{secrets.token_hex(5)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _flask(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([python(), "-m", "flask", "--app", "lms", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def _start(env: dict[str, str], work: Path, args: argparse.Namespace):
    """gunicorn with the launcher's settings, and the grading workers; returns (url, server, workers)."""
    port = free_port()
    server = start_server([str(Path(python()).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}",
                           *gunicorn_options(args.lms_workers, LAUNCHER_THREADS), "lms:create_app()"],
                          f"http://127.0.0.1:{port}/healthz", env=env, replace_env=True, timeout=120,
                          log_path=work / "gunicorn.log")
    with (work / "grading-workers.log").open("ab") as log:
        workers = [subprocess.Popen([python(), "-m", "grading", "worker"], cwd=ROOT, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
                   for _ in range(args.grading_workers)]
    return f"http://127.0.0.1:{port}", server, workers


def _crowd(url: str, course: Course, count: int, first: int, think: float, timeout: float) -> list[Trainee]:
    """`count` trainees released together by a barrier, each in its own thread."""
    trainees = [Trainee(url, first + i, course, think) for i in range(count)]
    barrier = threading.Barrier(count)

    def one(trainee: Trainee) -> None:
        barrier.wait()
        trainee.run()

    threads = [threading.Thread(target=one, args=(t,), daemon=True, name=f"trainee-{t.number}") for t in trainees]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    for trainee, thread in zip(trainees, threads):
        if thread.is_alive():
            trainee.errors.append(f"still running after the {timeout:.0f} s bound")
    return trainees


def _graded_once(env: dict[str, str], ids: list[int]) -> dict[str, int]:
    """From the database itself: submissions that exist, have exactly one grade, and were tried more than once."""
    code = ("import json, sys\nfrom lms import create_app\nfrom lms.extensions import db\n"
            "from grading.models import Grade, GradingJob, Submission\n"
            "ids = json.loads(sys.argv[1])\napp = create_app()\nwith app.app_context():\n"
            "    found = db.session.scalar(db.select(db.func.count()).select_from(Submission)"
            ".where(Submission.id.in_(ids)))\n"
            "    total = db.session.scalar(db.select(db.func.count()).select_from(Submission))\n"
            "    per = dict(db.session.execute(db.select(Grade.submission_id, db.func.count())"
            ".where(Grade.submission_id.in_(ids)).group_by(Grade.submission_id)).all())\n"
            "    retried = db.session.scalar(db.select(db.func.count()).select_from(GradingJob)"
            ".where(GradingJob.attempts > 1))\n"
            "print(json.dumps({'found': found, 'total': total, 'graded_once': sum(1 for n in per.values() if n == 1),"
            " 'graded_twice_or_more': sum(1 for n in per.values() if n > 1), 'retried_jobs': retried}))\n")
    done = subprocess.run([python(), "-c", code, json.dumps(ids)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"could not read the grading tables:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _figures(trainees: list[Trainee]) -> dict[str, list[float]]:
    merged: dict[str, list[float]] = defaultdict(list)
    for trainee in trainees:
        for action, values in trainee.timings.items():
            merged[action].extend(values)
        merged["submit -> graded"].extend(trainee.graded_after_s)
    return merged


def report(crowd: dict[str, list[float]], alone: dict[str, list[float]]) -> str:
    rows = []
    for action, values in crowd.items():
        if not values:
            continue
        base = percentile(alone.get(action, []), 50)
        p99 = percentile(values, 99)
        rows.append([action, len(values), percentile(values, 50) * 1000, percentile(values, 95) * 1000,
                     p99 * 1000, max(values) * 1000, p99 / base if base else float("nan")])
    return table(rows, ["action", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "p99/alone p50"])


def run(args: argparse.Namespace) -> dict:
    database = _private_database(args.postgres) if args.postgres else nullcontext("")
    with database as database_url:
        return _run(args, database_url)


def _run(args: argparse.Namespace, database_url: str) -> dict:
    work = Path(tempfile.mkdtemp(prefix="nia-load-"))
    env = _settings(work, args, database_url)
    course = Course.from_dir(args.courses)
    server, workers = None, []
    try:
        _flask(env, "db", "upgrade", "--directory", "lms/migrations")
        _flask(env, "courses", "import", str(args.courses))
        _flask(env, "labs", "build")
        url, server, workers = _start(env, work, args)
        print(f"LMS {url} (gunicorn gthread {args.lms_workers}x{LAUNCHER_THREADS}), {args.grading_workers} grading "
              f"worker(s), queue {'Redis' if args.redis_url else 'SQLite'}, database "
              f"{'PostgreSQL' if database_url else 'SQLite'}; course {course.slug}", flush=True)
        alone = _crowd(url, course, 1, 0, 0.0, args.timeout)
        started = time.monotonic()
        crowd = _crowd(url, course, args.trainees, 1, args.think, args.timeout)
        elapsed = time.monotonic() - started
        everyone = alone + crowd
        ids = [s for t in everyone for s in t.submissions]
        database = _graded_once(env, ids)
        return {"trainees": args.trainees, "elapsed_s": elapsed, "alone": _figures(alone),
                "crowd": _figures(crowd), "errors": [e for t in everyone for e in t.errors],
                "submissions": len(ids), "expected_submissions": len(everyone) * len(course.labs),
                "quizzes_passed": sum(t.quizzes_passed for t in everyone),
                "expected_quizzes": len(everyone) * len(course.quizzes), "database": database, "work": str(work)}
    finally:
        for worker in workers:
            stop_server(worker)
        if server is not None:
            stop_server(server)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def verdict(result: dict) -> list[str]:
    """The checks that failed (empty when the run is clean)."""
    failed = [f"{len(result['errors'])} error(s), first: {result['errors'][0]}"] if result["errors"] else []
    db, ids = result["database"], result["submissions"]
    if ids != result["expected_submissions"]:
        failed.append(f"{ids} submissions accepted of {result['expected_submissions']} expected (one per trainee "
                      "and lab; a trainee stops at its first error)")
    if db["found"] != ids or db["total"] != ids:
        failed.append(f"database has {db['found']} of the {ids} submissions ({db['total']} in all)")
    if db["graded_once"] != ids or db["graded_twice_or_more"]:
        failed.append(f"{db['graded_once']} of {ids} graded exactly once, {db['graded_twice_or_more']} more than once")
    if result["quizzes_passed"] != result["expected_quizzes"]:
        failed.append(f"{result['quizzes_passed']} of {result['expected_quizzes']} quizzes passed")
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--trainees", type=int, default=100, help="simulated trainees at once (default 100)")
    parser.add_argument("--grading-workers", type=int, default=2, help="grading worker processes (default 2)")
    parser.add_argument("--lms-workers", type=int, default=LAUNCHER_WORKERS, help="gunicorn workers (as make run)")
    parser.add_argument("--courses", type=Path, default=DEFAULT_COURSE, help="ONE course directory to use")
    parser.add_argument("--think", type=float, default=0.5, help="random pause before each request, 0..N s")
    parser.add_argument("--timeout", type=float, default=1800, help="bound on the whole crowd run, seconds")
    parser.add_argument("--postgres", default="", metavar="URL",
                        help="PostgreSQL server (e.g. postgresql://postgres@127.0.0.1:5432/postgres): the run uses "
                             "a private database created and dropped there (default: SQLite)")
    parser.add_argument("--redis-url", default="", help="grading queue on Redis (default the SQLite queue)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, database)")
    args = parser.parse_args(argv)
    if args.trainees < 1 or args.grading_workers < 1:
        parser.error("--trainees and --grading-workers must be at least 1")
    result = run(args)
    print(f"\n{args.trainees} trainees at once, {args.think:g} s think time: all done in {result['elapsed_s']:.1f} s; "
          f"{result['submissions']} lab submissions, {result['quizzes_passed']} quizzes passed, "
          f"{result['database']['retried_jobs']} grading job(s) retried "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(report(result["crowd"], result["alone"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    failed = verdict(result)
    for error in result["errors"][:5]:
        print("error:", error)
    print("\nchecks: " + ("no errors, no lost submission, each graded exactly once, every quiz passed"
                          if not failed else "FAILED: " + "; ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
