"""The whole platform started the way `make run` starts it, on private ports and directories.

`make run` = `flask db upgrade`, `flask courses import`, then `python -m lms.launcher` (simulator with its broker,
the LMS under gunicorn, a grading worker, JupyterHub with configurable-http-proxy). Here the same three commands
run with every port (26000-26999) and every directory (database, instance, lab state, logs) private to the test,
so the run never touches var/ or instance/ of the checkout nor another run's servers.
"""
from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[2]
PORT_RANGE = range(26000, 27000)
PORT_NAMES = ("NIA_LMS_PORT", "NIA_MQTT_PORT", "NIA_SIM_CONTROL_PORT", "NIA_HUB_PORT", "NIA_HUB_API_PORT",
              "NIA_HUB_PROXY_API_PORT")
READY_LINE = "NI Academy is running"


def free_ports(count: int) -> list[int]:
    """Ports in our range that nothing listens on now (checked by binding; random order spreads parallel runs)."""
    chosen: list[int] = []
    for port in random.sample(PORT_RANGE, len(PORT_RANGE)):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        chosen.append(port)
        if len(chosen) == count:
            return chosen
    raise RuntimeError(f"fewer than {count} free ports in {PORT_RANGE}")


def _clean_environment() -> dict[str, str]:
    """This process's environment without any NIA_* setting, so only the ones below reach the platform."""
    return {k: v for k, v in os.environ.items() if not k.startswith("NIA_") and k != "DATABASE_URL"}


@dataclass
class Platform:
    root: Path
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        self.ports = dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES))))
        self.instance, self.log_dir = self.root / "instance", self.root / "log"
        self.env = {**_clean_environment(), **{k: str(v) for k, v in self.ports.items()},
                    "NIA_ENV": "development", "NIA_INSTANCE_DIR": str(self.instance),
                    "DATABASE_URL": f"sqlite:///{self.root / 'ni_academy.db'}",
                    "NIA_LAB_STATE_DIR": str(self.root / "lab"), "NIA_LOG_DIR": str(self.log_dir),
                    "NIA_MAIL_BACKEND": "file", "NIA_MAIL_FILE_DIR": str(self.root / "mail")}

    @property
    def lms_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['NIA_LMS_PORT']}"

    @property
    def hub_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['NIA_HUB_PORT']}"

    def flask(self, *args: str) -> str:
        """One `flask --app lms …` command, as the Makefile runs it; its output, or an error with the output."""
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "lms", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=180)
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def prepare(self, courses: Path) -> None:
        """`make migrate` and `make import-courses`, on the given course directory."""
        self.flask("db", "upgrade", "--directory", "lms/migrations")
        self.flask("courses", "import", str(courses))

    def start(self, timeout: float = 150) -> None:
        """`python -m lms.launcher`; returns once it says every component is up, then checks /healthz."""
        self.root.mkdir(parents=True, exist_ok=True)
        output = self.root / "launcher.out"
        with output.open("wb") as sink:
            self.process = subprocess.Popen([sys.executable, "-m", "lms.launcher"], cwd=ROOT, env=self.env,
                                            stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while READY_LINE not in output.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the launcher did not start everything:\n{output.read_text(errors='replace')}")
            time.sleep(0.25)
        health = requests.get(f"{self.lms_url}/healthz", timeout=30).json()
        down = {name: part for name, part in health["components"].items() if part.get("status") != "ok"}
        if down:
            self.stop()
            raise RuntimeError(f"/healthz reports components not ok: {down}")

    def stop(self) -> None:
        """Stop the launcher like Ctrl-C does, then anything it started that outlived it (see the report of
        the launcher's 10 s wait: JupyterHub stopping its idle-culler service takes longer, and the proxy and
        single-user servers it started in their own sessions would be left running)."""
        if self.process is None:
            return
        try:
            started = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            started = []
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        alive = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        for leftover in alive:
            leftover.terminate()
        _gone, still = psutil.wait_procs(alive, timeout=5)
        for leftover in still:
            leftover.kill()
        self.process = None

    def hub_api_token(self) -> str:
        """The LMS's service token for the hub API (generated on first start into the hub state directory)."""
        return json.loads((self.instance / "hub" / "secrets.json").read_text())["lms_api_token"]

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else "(no log)"
        return f"--- {path} ---\n" + "\n".join(text.splitlines()[-lines:])

    def logs(self) -> str:
        return "\n".join(self.log_tail(name) for name in ("lms", "grading-worker", "jupyterhub", "simulator"))
