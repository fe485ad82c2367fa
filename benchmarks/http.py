"""HTTP throughput of the LMS under its production server (gunicorn), as ratios to a hello-world endpoint served by
the same gunicorn in the same run: the catalog page, a lesson page (as a logged-in, enrolled trainee) and the API
catalog, each at N concurrent connections. Goal: ratio >= 0.5 and p99 < 100 ms.

    python -m benchmarks http --seconds 10 --connections 50 [--workers N] [--worker-class gthread|sync]

The server runs as `make run` serves the LMS (lms/launcher.py: gthread, 1 worker per core x 4
threads, each worker with its own SO_REUSEPORT socket, keep-alive); the
same gunicorn serves the hello endpoint and the pages, so the settings apply to the baseline and the pages alike.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from lms.launcher import gunicorn_concurrency

from benchmarks._util import ROOT, cpu_count, free_port, python, start_server, stop_server, table

USER_AGENT = "nia-benchmark/1"  # login and load use the same agent: flask-login's "strong" session protection
GOAL_RATIO, GOAL_P99_MS = 0.5, 100.0
LAUNCHER_WORKERS, LAUNCHER_THREADS = gunicorn_concurrency()  # what lms/launcher.py (make run) starts


@dataclass
class Target:
    name: str
    path: str
    headers: list[str] = field(default_factory=list)


@dataclass
class Result:
    name: str
    path: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    non_2xx: int


def _settings(workdir: Path) -> dict[str, str]:
    """Production settings on a throw-away SQLite database (environment for gunicorn; config for the setup)."""
    return {"NIA_ENV": "production", "NIA_SECRET_KEY": secrets.token_hex(32), "NIA_INSTANCE_DIR": str(workdir),
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}", "NIA_MAIL_BACKEND": "file",
            "NIA_LOGIN_FAILURES_PER_IP": "1000000"}


def _prepare(settings: dict[str, str], courses_dir: Path | None) -> dict[str, str]:
    """Create the schema, import courses, make an enrolled trainee; return the paths and credentials to use."""
    code = subprocess.run([python(), "-m", "benchmarks._http_seed", *([str(courses_dir)] if courses_dir else [])],
                          cwd=str(ROOT), env={**_clean_env(), **settings}, capture_output=True, text=True,
                          timeout=600)
    if code.returncode != 0:
        raise RuntimeError(f"benchmark setup failed:\n{code.stdout[-3000:]}\n{code.stderr[-3000:]}")
    return json.loads(code.stdout.strip().splitlines()[-1])


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("NIA_") and k not in ("DATABASE_URL",)}


def _request(port: int, method: str, path: str, headers: dict[str, str], body: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"User-Agent": USER_AGENT, **headers})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def _session_cookie(headers: list[tuple[str, str]], current: str | None) -> str | None:
    for name, value in headers:
        if name.lower() == "set-cookie" and value.startswith("session="):
            return value.split(";", 1)[0]
    return current


def login(port: int, email: str, password: str, login_path: str = "/accounts/login") -> str:
    """Log in through the real form (CSRF token included); return the Cookie header value."""
    status, headers, page = _request(port, "GET", login_path, {})
    cookie = _session_cookie(headers, None)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if status != 200 or not match or not cookie:
        raise RuntimeError(f"login page {login_path} answered {status} without a CSRF token or session")
    body = urlencode({"email": email, "password": password, "csrf_token": match.group(1)})
    status, headers, page = _request(port, "POST", login_path, {
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}, body)
    if status not in (302, 303):
        raise RuntimeError(f"login failed with status {status}: {page[:300]}")
    cookie = _session_cookie(headers, cookie)
    # Follow the redirect as a browser does: the page shows (and so clears) the "logged in" message, which
    # would otherwise stay in the cookie wrk replays and make every measured page render it again.
    location = dict((k.lower(), v) for k, v in headers).get("location", "/")
    status, headers, page = _request(port, "GET", location, {"Cookie": cookie})
    return _session_cookie(headers, cookie)


def _check(port: int, target: Target) -> None:
    headers = dict(h.split(": ", 1) for h in target.headers)
    status, _headers, body = _request(port, "GET", target.path, headers)
    if status != 200:
        raise RuntimeError(f"{target.name} {target.path} answered {status} before the run: {body[:300]}")


def _wrk(url: str, target: Target, connections: int, seconds: float) -> dict:
    threads = max(1, min(cpu_count(), connections))
    duration = max(1, round(seconds))  # wrk takes whole seconds
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency",
               "-H", f"User-Agent: {USER_AGENT}"]
    for header in target.headers:
        command += ["-H", header]
    output = subprocess.run(command + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    return parse_wrk(output)


def parse_wrk(output: str) -> dict:
    """Requests/s, p50/p99 (from --latency) and error counts out of wrk's report."""
    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not match:
            return float("nan")
        return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if not rps or not total:
        raise RuntimeError(f"could not read wrk's output:\n{output[-2000:]}")
    return {"rps": float(rps.group(1)), "p50_ms": latency("50"), "p99_ms": latency("99"),
            "requests": int(total.group(1)), "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
            # read errors are connections the server closed after answering (sync workers): not failures
            "errors": int(socket.group(1)) + int(socket.group(3)) + int(socket.group(4)) if socket else 0}


def _python_load(url: str, target: Target, connections: int, seconds: float) -> dict:
    command = [python(), "-m", "benchmarks._loadgen", url, "--connections", str(connections),
               "--seconds", str(seconds), "--header", f"User-Agent: {USER_AGENT}"]
    for header in target.headers:
        command += ["--header", header]
    done = subprocess.run(command, cwd=str(ROOT), capture_output=True, text=True, timeout=seconds + 120)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def run(args: argparse.Namespace) -> list[Result]:
    loadgen = args.loadgen
    if loadgen == "auto":
        loadgen = "wrk" if shutil.which("wrk") else "python"
    workers = args.workers or (LAUNCHER_WORKERS if args.worker_class == "gthread" else 2 * cpu_count() + 1)
    # gunicorn turns sync into gthread when threads > 1, so only gthread gets the launcher's threads by default
    args.threads = args.threads or (LAUNCHER_THREADS if args.worker_class == "gthread" else 1)
    workdir = Path(tempfile.mkdtemp(prefix="nia-bench-http-"))
    server = None
    try:
        settings = _settings(workdir)
        seeded = _prepare(settings, args.courses)
        port = free_port()
        command = [python(), "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                   "--worker-class", args.worker_class, "--threads", str(args.threads), "--reuse-port",
                   "--backlog", "2048",
                   "--log-level", "warning", "benchmarks._http_app:build_app()"]
        base = f"http://127.0.0.1:{port}"
        server = start_server(command, f"{base}{seeded['hello']}", env={**_clean_env(), **settings},
                              replace_env=True, log_path=workdir / "gunicorn.log")
        cookie = login(port, seeded["email"], seeded["password"], seeded["login"])
        targets = [Target("hello", seeded["hello"]), Target("catalog", seeded["catalog"]),
                   Target("lesson", seeded["lesson"], [f"Cookie: {cookie}"]),
                   Target("api catalog", seeded["api_catalog"])]
        print(f"gunicorn: {workers} {args.worker_class} worker(s) x {args.threads} thread(s) on "
              f"{cpu_count()} core(s); load: {loadgen}, {args.connections} connections, {args.seconds:g} s per "
              f"endpoint in {args.rounds} interleaved round(s); "
              f"load average before: {_loadavg()}", flush=True)
        load = _wrk if loadgen == "wrk" else _python_load
        for target in targets:
            _check(port, target)
            if args.warmup > 0:
                load(base + target.path, target, args.connections, args.warmup)
        # Interleaved rounds: a burst of other work on the machine hits every endpoint alike.
        rounds: dict[str, list[dict]] = {t.name: [] for t in targets}
        share = args.seconds / max(1, args.rounds)
        for _round in range(max(1, args.rounds)):
            for target in targets:
                rounds[target.name].append(load(base + target.path, target, args.connections, share))
        results = [combine(t, rounds[t.name]) for t in targets]
        print(f"load average after: {_loadavg()} (other work on the machine skews absolute figures; "
              f"the ratios are measured in the same run)")
        return results
    finally:
        if server is not None:
            stop_server(server)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")


def combine(target: Target, runs: list[dict]) -> Result:
    """Requests/s over all rounds; p50 the median round's, p99 the worst round's (conservative)."""
    requests = sum(r["requests"] for r in runs)
    seconds = sum(r["requests"] / r["rps"] for r in runs if r["rps"])
    p50s = sorted(r["p50_ms"] for r in runs)
    return Result(target.name, target.path, rps=requests / seconds if seconds else 0.0,
                  p50_ms=p50s[len(p50s) // 2], p99_ms=max(r["p99_ms"] for r in runs), requests=requests,
                  errors=sum(r["errors"] for r in runs), non_2xx=sum(r["non_2xx"] for r in runs))


def report(results: list[Result]) -> str:
    hello = next(r for r in results if r.name == "hello")
    rows, verdicts = [], []
    for r in results:
        ratio = r.rps / hello.rps if hello.rps else float("nan")
        rows.append([r.name, r.path, r.rps, r.p50_ms, r.p99_ms, "-" if r is hello else f"{ratio:.2f}",
                     r.errors + r.non_2xx])
        if r is not hello:
            verdicts.append(f"{r.name}/hello = {ratio:.2f} ({'meets' if ratio >= GOAL_RATIO else 'below'} the "
                            f"{GOAL_RATIO} goal), p99 {r.p99_ms:.1f} ms "
                            f"({'meets' if r.p99_ms < GOAL_P99_MS else 'above'} the {GOAL_P99_MS:.0f} ms goal)")
    text = table(rows, ["endpoint", "path", "req/s", "p50 ms", "p99 ms", "ratio", "errors"])
    return text + "\n" + "\n".join(verdicts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks http", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="load per endpoint in total (default 10)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent connections (default 50)")
    parser.add_argument("--workers", type=int, default=0,
                        help="gunicorn workers (default as make run starts them: lms.launcher.gunicorn_concurrency, "
                             "2 x cores + 1 for sync)")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class (default gthread)")
    parser.add_argument("--threads", type=int, default=0,
                        help="threads per worker (default as make run for gthread; sync has 1)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="split --seconds into this many interleaved rounds over the endpoints (default 3)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each endpoint")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto",
                        help="wrk if installed (auto), else a Python asyncio client in its own process")
    parser.add_argument("--courses", type=Path, default=None,
                        help="course directory to import (default: the repository's courses/)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, database)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    results = run(args)
    print(report(results))
    print(f"(run took {time.monotonic() - started:.0f} s)")
    if args.json:
        hello = next(r for r in results if r.name == "hello")
        args.json.write_text(json.dumps({"results": [asdict(r) for r in results],
                                         "ratios": {r.name: r.rps / hello.rps for r in results if r is not hello}},
                                        indent=2))
    failed = [r for r in results if r.requests == 0 or (r.errors + r.non_2xx) > r.requests * 0.01]
    if failed:
        print("too many errors for: " + ", ".join(r.name for r in failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
