"""`make run`'s launcher: the LMS processes each listen on their own SO_REUSEPORT socket (the kernel spreads
connections between them), so the launcher itself must refuse a port that is already served, including by an
earlier `make run` whose sockets would otherwise silently share the port with the new one."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

from benchmarks._util import free_port
from lms.launcher import ROOT, _port_free, gunicorn_options


def _listener(port: int, reuse_port: bool) -> socket.socket:
    server = socket.socket()
    if reuse_port:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    server.bind(("127.0.0.1", port))
    server.listen()
    return server


def test_a_port_served_with_or_without_reuse_port_is_taken():
    port = free_port()
    assert _port_free(port)
    for reuse_port in (True, False):
        server = _listener(port, reuse_port)
        try:
            assert not _port_free(port)
        finally:
            server.close()
    assert _port_free(port)


def test_each_lms_process_gets_its_own_socket():
    options = gunicorn_options(3, 4)
    assert "--reuse-port" in options
    assert options[options.index("--workers") + 1] == "3" and options[options.index("--threads") + 1] == "4"


def test_the_launcher_refuses_a_port_an_earlier_run_still_serves(tmp_path):
    port = free_port()
    earlier = _listener(port, reuse_port=True)  # what an earlier `make run` left listening
    try:
        env = {**os.environ, "NIA_SIM_CONTROL_PORT": str(port), "NIA_INSTANCE_DIR": str(tmp_path),
               "NIA_ENV": "development"}
        done = subprocess.run([sys.executable, "-m", "lms.launcher"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
    finally:
        earlier.close()
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in done.stderr
