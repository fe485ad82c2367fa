"""The trainee's line page in the LMS: access control, start/stop through the service, SSE relay from MQTT."""
from __future__ import annotations

import re

import pytest

from virtual_lab.broker.process import free_port
from virtual_lab.control import make_server, serve_in_thread
from virtual_lab.service import LabService
from virtual_lab.transport import MemoryBus, MemoryTransport

TOKEN = "web-test-control-token-0123456789"


@pytest.fixture
def service_url(app, monkeypatch):
    bus = MemoryBus()
    service = LabService(transport_factory=lambda line: MemoryTransport(line, bus), default_speed=20).start()
    port = free_port()
    server = make_server(service, "127.0.0.1", port, TOKEN)
    serve_in_thread(server)
    monkeypatch.setitem(app.config, "LAB_SERVICE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setitem(app.config, "LAB_SERVICE_TOKEN", TOKEN)
    yield service
    server.shutdown()
    server.server_close()
    service.close()


@pytest.fixture
def lab_state(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "LAB_STATE_DIR", str(tmp_path / "lab"))
    monkeypatch.setitem(app.config, "LAB_CREDENTIAL_SECRET", "web-secret")


def test_page_needs_login(client):
    response = client.get("/lab/")
    assert response.status_code in (302, 401)


def test_page_without_service_says_so(client, make_user, login, lab_state):
    user = make_user()
    login(user)
    html = client.get("/lab/").get_data(as_text=True)
    assert "not configured" in html
    assert f"u{user.id}" in html and "nia/v1/u" in html
    assert "<script>" not in html and 'src="/lab/static/lab/line.js"' in html
    static = client.get("/lab/static/lab/line.js")
    assert static.status_code == 200 and "EventSource" in static.get_data(as_text=True)
    static.close()


def test_start_and_stop_own_line(client, make_user, login, csrf_token, service_url, lab_state):
    user = make_user()
    login(user)
    token = csrf_token("/lab/")
    assert client.post("/lab/start", data={"scenario": "smoke"}).status_code == 400  # CSRF
    response = client.post("/lab/start", data={"scenario": "smoke", "csrf_token": token})
    assert response.status_code == 302
    lines = service_url.lines()
    assert [(l["trainee"], l["scenario"]) for l in lines] == [(f"u{user.id}", "smoke")]
    html = client.get("/lab/").get_data(as_text=True)
    assert 'data-machine="packer"' in html and 'data-stream="/lab/stream"' in html
    assert "bad-scenario" not in html
    client.post("/lab/start", data={"scenario": "../../etc", "csrf_token": token})
    assert service_url.lines()[0]["scenario"] == "smoke"
    assert client.post("/lab/stop", data={"csrf_token": token}).status_code == 302
    assert service_url.lines() == []


def test_trainees_only_ever_see_their_own_line(client, make_user, login, csrf_token, service_url, lab_state):
    other = make_user()
    service_url.start_line(f"u{other.id}", "smoke", 1)
    user = make_user()
    login(user)
    html = client.get("/lab/").get_data(as_text=True)
    assert f"u{other.id}" not in re.sub(r"u%d\b" % user.id, "", html)
    assert "is not running" in html
    client.post("/lab/stop", data={"csrf_token": csrf_token("/lab/")})
    assert [l["trainee"] for l in service_url.lines()] == [f"u{other.id}"]


def test_sse_relays_own_topics_from_the_broker(client, make_user, login, app, monkeypatch, tmp_path):
    from virtual_lab import settings
    from virtual_lab.broker import start_broker, trainee_name

    state = tmp_path / "lab-sse"
    s = settings.load(mqtt_port=free_port(), state_dir=state, credential_secret="sse-secret")
    broker = start_broker(s, "embedded")
    service = LabService(s, default_speed=20).start()
    for key, value in (("MQTT_HOST", "127.0.0.1"), ("MQTT_PORT", s.mqtt_port), ("LAB_STATE_DIR", str(state)),
                       ("LAB_CREDENTIAL_SECRET", "sse-secret"), ("LAB_SSE_MAX_SECONDS", 2)):
        monkeypatch.setitem(app.config, key, value)
    try:
        user, other = make_user(), make_user()
        service.start_line(trainee_name(user.id), "smoke", 1)
        service.start_line(trainee_name(other.id), "smoke", 2)
        login(user)
        response = client.get("/lab/stream", headers={"Accept": "text/event-stream"})
        body = response.get_data(as_text=True)
        assert response.mimetype == "text/event-stream"
        assert "event: msg" in body and '"path":"tko/plant-a/line-1/' in body
        assert f"u{other.id}" not in body
    finally:
        service.close()
        broker.stop()


def test_sse_reports_an_unreachable_broker(client, make_user, login, app, monkeypatch, lab_state):
    monkeypatch.setitem(app.config, "MQTT_PORT", free_port())
    login(make_user())
    body = client.get("/lab/stream").get_data(as_text=True)
    assert "event: problem" in body and "cannot reach" in body


def test_bad_lab_settings_fail_loudly(app_config):
    from lms import create_app
    from lms.config import ConfigError

    with pytest.raises(ConfigError, match="MQTT_PORT"):
        create_app({**app_config, "MQTT_PORT": "not-a-port"})
    with pytest.raises(ConfigError, match="LAB_DEFAULT_SCENARIO"):
        create_app({**app_config, "LAB_DEFAULT_SCENARIO": "no-such-scenario"})
