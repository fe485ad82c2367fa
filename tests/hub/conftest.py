"""A real JupyterHub (proxy + single-user servers) against the LMS served on a free loopback port.

Module-scoped and independent of the function-scoped `app` fixture: the hub keeps users across tests, so the
LMS rows must keep their ids too. Everything is removed at the end.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin

import pytest

from tests.conftest import empty_all_tables
import requests
from werkzeug.serving import make_server

from lms.extensions import db
from tests.fixtures.oidc import TEST_COURSE, build_lab_app, dispose, free_port

PASSWORD = "correct horse battery staple"
ROOT = Path(__file__).resolve().parents[2]


class Stack:
    """URLs, tokens and helpers of the running LMS + hub."""

    def __init__(self, app, lms_url: str, hub_url: str, log: Path):
        self.app, self.lms_url, self.hub_url, self.log = app, lms_url, hub_url, log
        self.users: dict[str, object] = {}

    @property
    def service_headers(self) -> dict:
        return {"Authorization": f"token {self.app.config['HUB_API_TOKEN']}"}

    def hub_api(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.hub_url}/hub/api{path}", headers=self.service_headers,
                                timeout=30, **kwargs)

    def browser(self, key: str) -> requests.Session:
        """A cookie jar logged into the LMS through the real form (CSRF included)."""
        user = self.users[key]
        web = requests.Session()
        page = web.get(f"{self.lms_url}/accounts/login", timeout=10).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        response = web.post(f"{self.lms_url}/accounts/login", timeout=10, allow_redirects=False,
                            data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, response.text[:300]
        return web

    def csrf(self, web: requests.Session, path: str) -> str:
        page = web.get(self.lms_url + path, timeout=10).text
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    def hub_login(self, web: requests.Session) -> requests.Response:
        """SSO: hub auto_login -> LMS authorize -> hub callback, followed like a browser."""
        return web.get(f"{self.hub_url}/hub/login?next=%2Fhub%2Fhome", timeout=30)

    def wait_ready(self, user: str, server: str, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.hub_api("GET", f"/users/{user}").json()["servers"].get(server)
            if model and model.get("ready"):
                return model
            time.sleep(0.25)
        raise AssertionError(f"{user}/{server} not ready in {timeout}s; hub log:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""


def _serve(app, port: int):
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def _make_users(app) -> dict:
    from lms.accounts.operations import hash_password
    from lms.models import Course, Enrolment, User

    hashed = hash_password(PASSWORD)
    with app.app_context():
        course = Course(slug=TEST_COURSE, title="Line basics")
        db.session.add(course)
        users = {key: User(email=f"{key}@hub.test", name=key.title(), password_hash=hashed, role=role)
                 for key, role in (("alice", "trainee"), ("bob", "trainee"), ("carol", "trainee"),
                                   ("ivan", "instructor"))}
        db.session.add_all(users.values())
        db.session.flush()
        for key in ("alice", "bob"):
            db.session.add(Enrolment(user_id=users[key].id, course_id=course.id))
        db.session.commit()
        for user in users.values():
            db.session.refresh(user)
            db.session.expunge(user)
    return users


def _wipe(app) -> None:
    empty_all_tables(app)


def start_hub(state: Path, lms_url: str, hub_port: int, extra_env: dict | None = None):
    ports = {"NIA_HUB_PORT": hub_port, "NIA_HUB_API_PORT": free_port(), "NIA_HUB_PROXY_API_PORT": free_port()}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "NIA_HUB_STATE_DIR": str(state),
           "NIA_LMS_PUBLIC_URL": lms_url, "NIA_HUB_AUTH_REFRESH_AGE": "2", "NIA_HUB_CULL_TIMEOUT": "600",
           "NIA_HUB_CULL_EVERY": "60", "PYTHONPATH": str(ROOT), **(extra_env or {})}
    log = state / "hub.log"
    state.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen([sys.executable, "-m", "virtual_lab.hub"], cwd=ROOT, env=env,
                                   stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    hub_url = f"http://127.0.0.1:{ports['NIA_HUB_PORT']}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"hub exited ({process.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(f"{hub_url}/hub/api/", timeout=2).status_code == 200:
                return process, hub_url, log
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    stop_hub(process)
    raise RuntimeError(f"hub did not answer in 60 s:\n{log.read_text(errors='replace')[-3000:]}")


def stop_hub(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # the hub stops its proxy and single-user servers (cleanup_servers)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(5)


@contextmanager
def running_stack(app_config: dict, state: Path, hub_env: dict | None = None):
    """LMS on a free port + a hub on free ports, users alice/bob (enrolled), carol (not), ivan (instructor)."""
    lms_port, hub_port = free_port(), free_port()
    lms_url, hub_url = f"http://127.0.0.1:{lms_port}", f"http://127.0.0.1:{hub_port}"
    app = build_lab_app(app_config, HUB_URL=hub_url, HUB_PUBLIC_URL=hub_url, HUB_STATE_DIR=str(state),
                        OIDC_HUB_REDIRECT_URIS=[hub_url + "/hub/oauth_callback"], OIDC_ISSUER=lms_url)
    server = _serve(app, lms_port)
    process = None
    try:
        process, hub_url, log = start_hub(state, lms_url, hub_port, hub_env)
        stack = Stack(app, lms_url, hub_url, log)
        stack.users = _make_users(app)
        yield stack
    finally:
        if process is not None:
            stop_hub(process)
        server.shutdown()
        _wipe(app)
        dispose(app)


LINE_CONTROL_TOKEN = "hub-test-control-token-0123456789"


@contextmanager
def running_line(state: Path, broker_kind: str):
    """Our own MQTT broker and simulator service (control channel over HTTP) on free loopback ports.

    Yields (service, settings, lms_config): lms_config points the LMS's virtual_lab settings at them, so the lab
    launcher's line provider (virtual_lab.webops.line_provider) starts real lines with real credentials."""
    from virtual_lab import settings as lab_settings
    from virtual_lab.broker import start_broker
    from virtual_lab.broker.process import free_port as lab_port
    from virtual_lab.control import make_server, serve_in_thread
    from virtual_lab.service import LabService

    from tests.fixtures.virtual_lab import MOSQUITTO, has_mosquitto

    settings = lab_settings.load(mqtt_port=lab_port(), state_dir=state, control_port=lab_port(),
                                 control_token=LINE_CONTROL_TOKEN, credential_secret="hub-test-credential-secret",
                                 mosquitto_bin=MOSQUITTO if has_mosquitto else "")
    broker = start_broker(settings, broker_kind)
    service = control = None
    try:
        service = LabService(settings, default_speed=5).start()
        control = make_server(service, "127.0.0.1", settings.control_port, LINE_CONTROL_TOKEN)
        serve_in_thread(control)
        yield service, settings, {
            "LAB_SERVICE_URL": f"http://127.0.0.1:{settings.control_port}", "LAB_SERVICE_TOKEN": LINE_CONTROL_TOKEN,
            "LAB_STATE_DIR": str(settings.state_dir), "LAB_CREDENTIAL_SECRET": settings.credential_secret,
            "MQTT_HOST": "127.0.0.1", "MQTT_PUBLIC_HOST": "127.0.0.1", "MQTT_PORT": settings.mqtt_port}
    finally:
        if control is not None:
            control.shutdown()
            control.server_close()
        if service is not None:
            service.close()
        broker.stop()


@pytest.fixture(scope="module")
def stack(app_config, tmp_path_factory):
    with running_stack(app_config, tmp_path_factory.mktemp("hubstate")) as running:
        yield running


def follow(web: requests.Session, url: str, **kwargs) -> requests.Response:
    return web.get(url, timeout=60, **kwargs)


__all__ = ["Stack", "follow", "running_line", "running_stack", "start_hub", "stop_hub", "urljoin"]
