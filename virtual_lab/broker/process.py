"""Small helpers for the broker processes."""
from __future__ import annotations

import socket
import subprocess
import time


def wait_port(host: str, port: int, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"broker exited with code {process.returncode} before listening on {host}:{port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"broker did not listen on {host}:{port} within {timeout:.0f} s")


def ensure_port_free(host: str, port: int) -> None:
    """Refuse to start when something already answers on the port (e.g. a broker left over from a failed start):
    otherwise the readiness probe would find that one and report our failed start as a success."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            pass
    except OSError:
        return
    raise RuntimeError(f"{host}:{port} is already in use by another process; stop it or choose another port "
                       "(NIA_MQTT_PORT)")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
