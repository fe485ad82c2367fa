"""`make run`: start every component on embedded defaults and supervise them.

Each component is a child process with its own log under var/log/. If one dies the launcher says which and
why (last log lines) and stops the rest, so nothing keeps running half-broken. Ctrl-C stops everything.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


@dataclass
class Component:
    name: str
    argv: list[str]
    port: int | None = None  # waited for before the next component starts
    env: dict[str, str] = field(default_factory=dict)
    optional: bool = False  # a missing prerequisite skips it with a message instead of failing
    skip_reason: str | None = None
    stop_timeout: float = 10.0  # seconds between SIGTERM and SIGKILL of its whole process group


def _env_port(name: str, default: int) -> int:
    value = os.environ.get(name, str(default))
    if not value.isdigit():
        sys.exit(f"{name} must be a port number, got {value!r}")
    return int(value)


def gunicorn_concurrency() -> tuple[int, int]:
    """(workers, threads) for the LMS: one process per core, because pages are CPU-bound Python (a page needs no
    database round trip once its user is loaded), and four threads each so slow requests (the hub's launch
    progress stream, uploads) do not hold a whole process. Measured on 2 cores (benchmarks/http, 2026-11-25):
    2 x 4 served signed-in lesson pages at 0.53-0.57 of hello-world with p99 58-65 ms, 4 x 2 at 0.55-0.58 with
    p99 97-108 ms (more processes than cores: each waits for a time slice), 2 x 8 at a third of that earlier.
    NIA_LMS_WORKERS / NIA_LMS_THREADS override."""
    workers = int(os.environ.get("NIA_LMS_WORKERS") or (os.cpu_count() or 1))
    threads = int(os.environ.get("NIA_LMS_THREADS") or 4)
    return workers, threads


def gunicorn_options(workers: int, threads: int) -> list[str]:
    """gthread workers, each with its own SO_REUSEPORT listening socket, so the kernel spreads new connections
    evenly: with one shared socket, whichever process woke first took them, and 50 keep-alive connections often
    all landed on one of two processes (half the machine idle, measured)."""
    return ["--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads), "--reuse-port"]


def _port_free(port: int) -> bool:
    """This bind fails while anything listens there, even sockets that share the port with SO_REUSEPORT
    (SO_REUSEADDR only lets it past connections of an earlier run still in TIME_WAIT)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def components() -> list[Component]:
    from .launcher_components import extra_components  # noqa: PLC0415 - imports Component from here

    lms_port = _env_port("NIA_LMS_PORT", 8470)
    workers, threads = gunicorn_concurrency()
    lms = Component("lms", [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{lms_port}",
                            *gunicorn_options(workers, threads), "--access-logfile", "-", "lms:create_app()"],
                    port=lms_port)
    return [*extra_components(before_lms=True), lms, *extra_components(before_lms=False)]


def _die_with_parent() -> None:
    """Children get SIGTERM if the launcher itself dies (killed, terminal closed): nothing is left orphaned."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:  # not Linux: the signal handlers below still stop children on a normal exit
        pass


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.2)
    return False


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def main() -> int:
    os.environ.setdefault("NIA_ENV", "development")
    os.environ["PATH"] = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    log_dir = Path(os.environ.get("NIA_LOG_DIR") or ROOT / "var" / "log")  # tests run a private stack
    log_dir.mkdir(parents=True, exist_ok=True)
    running: list[tuple[Component, subprocess.Popen, Path]] = []

    def stop_all(*_args) -> None:
        for _component, process, _log in reversed(running):
            if process.poll() is None:
                process.terminate()
        started = time.monotonic()
        for component, process, _log in running:
            try:
                process.wait(timeout=max(0.1, component.stop_timeout - (time.monotonic() - started)))
            except subprocess.TimeoutExpired:
                print(f"  {component.name} did not stop in {component.stop_timeout:g} s: killed", file=sys.stderr)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # its own session: children it left behind go too

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *a: (stop_all(), sys.exit(0)))
    try:
        for component in components():
            if component.skip_reason:
                print(f"  - {component.name}: not started: {component.skip_reason}")
                continue
            if component.port and not _port_free(component.port):
                print(f"\n{component.name} cannot start: port {component.port} on 127.0.0.1 is in use (another "
                      "`make run`?). Stop it or choose another port (README: ports).", file=sys.stderr)
                stop_all()
                return 1
            log = log_dir / f"{component.name}.log"
            handle = log.open("ab")
            process = subprocess.Popen(component.argv, cwd=ROOT, env={**os.environ, **component.env},
                                       stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
                                       preexec_fn=_die_with_parent)
            running.append((component, process, log))
            if component.port and not _wait_for_port(component.port, process):
                print(f"\n{component.name} did not start (log {log}):\n{_tail(log)}", file=sys.stderr)
                stop_all()
                return 1
            print(f"  + {component.name} started" + (f" on 127.0.0.1:{component.port}" if component.port else ""))
        lms_port = _env_port("NIA_LMS_PORT", 8470)
        print(f"\nNI Academy is running: http://127.0.0.1:{lms_port}/\nLogs: {log_dir}\n"
              "Create the first admin in another terminal:\n"
              "  NIA_ENV=development .venv/bin/flask --app lms users create --email admin@example.com --password '<10+ chars>' "
              "--role admin\nPress Ctrl-C to stop.")
        while True:
            for component, process, log in running:
                if process.poll() is not None:
                    print(f"\n{component.name} exited with code {process.returncode} (log {log}):\n{_tail(log)}",
                          file=sys.stderr)
                    stop_all()
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping…")
        stop_all()
        return 0


if __name__ == "__main__":
    sys.exit(main())
