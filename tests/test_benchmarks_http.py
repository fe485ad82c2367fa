"""benchmarks/http must keep running: a tiny real run (gunicorn, real login, real load) that checks only that it
completes and prints ratios, never how fast anything is."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import _util
from benchmarks.http import Target, combine, parse_wrk

ROOT = Path(__file__).resolve().parent.parent


def _run(*extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIA_") and k != "DATABASE_URL"}
    return subprocess.run([sys.executable, "-m", "benchmarks", "http", "--seconds", "0.5", "--connections", "4",
                           "--warmup", "0", "--workers", "1", "--rounds", "2", *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)


@pytest.mark.slow
@pytest.mark.parametrize("loadgen", ["python", "auto"])
def test_http_benchmark_runs_and_prints_ratios(loadgen):
    done = _run("--loadgen", loadgen)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for name in ("catalog", "lesson", "api catalog"):
        assert re.search(rf"{name}/hello = \d+\.\d\d", done.stdout), done.stdout
    assert "p99" in done.stdout


def test_benchmarks_cli_lists_http():
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--list"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "http" in done.stdout
    unknown = subprocess.run([sys.executable, "-m", "benchmarks", "no-such-bench"], cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
    assert unknown.returncode == 2 and "unknown benchmark" in unknown.stderr


def test_parse_wrk_report():
    report = """Running 2s test @ http://127.0.0.1:1234/_bench/hello
  2 threads and 50 connections
  Latency Distribution
     50%  812.00us
     75%    1.20ms
     90%    2.00ms
     99%   15.31ms
  4321 requests in 2.00s, 1.00MB read
  Socket errors: connect 0, read 4321, write 0, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:   2160.50
"""
    figures = parse_wrk(report)
    assert figures["rps"] == 2160.5 and figures["requests"] == 4321
    assert figures["p50_ms"] == pytest.approx(0.812) and figures["p99_ms"] == pytest.approx(15.31)
    assert figures["non_2xx"] == 3 and figures["errors"] == 2
    with pytest.raises(RuntimeError):
        parse_wrk("wrk: connection refused")


def test_percentile_and_free_port():
    assert _util.percentile([5, 1, 3, 2, 4], 50) == 3
    assert _util.percentile(list(range(1, 101)), 99) == 99
    assert _util.percentile([7], 99) == 7
    port = _util.free_port()
    assert 1024 < port < 65536 and port not in (1883, 5432, 6379, 5672, 4222, 3306)


def test_rounds_are_combined_conservatively():
    runs = [{"rps": 100.0, "requests": 100, "p50_ms": 5.0, "p99_ms": 20.0, "errors": 0, "non_2xx": 1},
            {"rps": 300.0, "requests": 300, "p50_ms": 3.0, "p99_ms": 9.0, "errors": 2, "non_2xx": 0}]
    result = combine(Target("x", "/x"), runs)
    assert result.rps == pytest.approx(400 / 2.0) and result.requests == 400
    assert result.p99_ms == 20.0 and result.errors == 2 and result.non_2xx == 1
