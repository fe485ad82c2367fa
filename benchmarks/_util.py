"""Helpers shared by the benchmarks: free ports, server processes, percentiles, printing."""
from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterable, Sequence

ROOT = Path(__file__).resolve().parent.parent


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the OS picks it; never one of the well-known service ports)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of unsorted values; nan for an empty sample."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def wait_http(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    """Poll `url` until it answers (any status below 500); fail early if `process` exits."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except urllib.error.HTTPError as error:
            if error.code < 500:
                return
            last = error
        except OSError as error:
            last = error
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s (last error: {last})")


def start_server(command: list[str], ready_url: str, *, env: dict[str, str] | None = None,
                 replace_env: bool = False, timeout: float = 60.0, log_path: Path | None = None,
                 cwd: Path | None = None) -> subprocess.Popen:
    """Start `command` in its own process group and wait until `ready_url` answers. Output goes to log_path.
    `env` is added to this process's environment, or used alone with replace_env=True."""
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    environment = dict(env or {}) if replace_env else {**os.environ, **(env or {})}
    process = subprocess.Popen(command, env=environment, cwd=str(cwd or ROOT),
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    if log_path:
        log.close()  # the child keeps its own descriptor
    try:
        wait_http(ready_url, timeout, process)
    except Exception:
        stop_server(process)
        if log_path:
            sys.stderr.write(Path(log_path).read_text(errors="replace")[-4000:])
        raise
    return process


def stop_server(process: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM the server's process group (gunicorn and its workers), SIGKILL if it does not stop in time."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
    except ProcessLookupError:
        pass


def python() -> str:
    return sys.executable


def table(rows: Iterable[Sequence[object]], header: Sequence[str]) -> str:
    """Plain-text table, right-aligned numbers."""
    rows = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(row, widths)))
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "", 1).replace("-", "", 1).isdigit() or text == "nan"
