"""Lab launch without a hub: permissions, clear errors when the hub is down, and the hub's spec endpoint."""
from __future__ import annotations

import base64
import json

import pytest

from lms.extensions import db
from lms.labs.models import LabServer
from lms.labs.queries import server_name, trainee_seed
from tests.fixtures.oidc import TEST_COURSE, TEST_LAB, TEST_SCENARIO, build_lab_app, dispose, release_notebook

LAB = f"/launch/{TEST_COURSE}/{TEST_LAB}"


@pytest.fixture(scope="module")
def app(app_config):
    application = build_lab_app(app_config)  # HUB_URL points at a closed port: the hub is "down"
    yield application
    dispose(application)


@pytest.fixture
def trainee(make_user, login, lab_enrol):
    user = make_user(role="trainee")
    lab_enrol(user)
    login(user)
    return user


def _spec(client, app, user_name: str, server: str, secret: str | None = None):
    token = secret if secret is not None else app.config["HUB_SPEC_SECRET"]
    return client.get("/launch/_hub/spec", query_string={"user": user_name, "server": server},
                      headers={"Authorization": f"Bearer {token}"})


def test_lab_page_for_enrolled_trainee(client, trainee):
    page = client.get(LAB)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Sensor lab" in html and "labs.js" in html and 'data-launching="0"' in html


def test_not_enrolled_is_403_and_unknown_lab_is_404(client, make_user, login, csrf_token):
    login(make_user(role="trainee"))
    token = csrf_token("/accounts/profile")
    assert client.post(LAB + "/launch", data={"csrf_token": token}).status_code == 403
    assert client.get(LAB).status_code == 403
    assert client.post(f"/launch/{TEST_COURSE}/nope/launch", data={"csrf_token": token}).status_code == 404


def test_instructor_may_open_any_lab(client, make_user, login):
    login(make_user(role="instructor"))
    assert client.get(LAB).status_code == 200


def test_anonymous_is_sent_to_login(client):
    response = client.get(LAB)
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]


def test_hub_down_gives_a_clear_message_and_a_retry(client, trainee, csrf_token):
    token = csrf_token(LAB)
    page = client.post(LAB + "/launch", data={"csrf_token": token})
    assert page.status_code == 503
    html = page.get_data(as_text=True)
    assert "not reachable right now" in html and "Try again" in html
    api = client.post(LAB + "/launch", data={"csrf_token": token}, headers={"Accept": "application/json"})
    assert api.status_code == 503 and "not reachable" in api.get_json()["title"]
    status = client.get(LAB + "/status")
    assert status.status_code == 503
    progress = client.get(LAB + "/progress")
    assert progress.mimetype == "text/event-stream" and b"event: lab-error" in progress.data


def test_submit_without_a_server_is_a_clear_error(client, trainee, csrf_token):
    response = client.post(LAB + "/submit", data={"csrf_token": csrf_token(LAB)},
                           headers={"Accept": "application/json"})
    assert response.status_code in (409, 503)
    assert "not running" in response.get_json()["title"] or "not reachable" in response.get_json()["title"]


def test_spec_endpoint_needs_the_shared_secret(client, app):
    assert _spec(client, app, "u1", "lab-x", secret="wrong-secret-value").status_code == 401
    assert client.get("/launch/_hub/spec?user=u1&server=x").status_code == 401


def test_spec_for_unknown_server_is_404(client, app, trainee):
    response = _spec(client, app, f"u{trainee.id}", "lab-000000000000")
    assert response.status_code == 404 and "No lab was launched" in response.get_json()["title"]
    assert _spec(client, app, "not-a-user", "x").status_code == 404


def _launched(app, user) -> str:
    name = server_name(TEST_COURSE, TEST_LAB)
    with app.app_context():
        db.session.add(LabServer(user_id=user.id, course_slug=TEST_COURSE, lab_slug=TEST_LAB, server_name=name,
                                 reset_requested=True))
        db.session.commit()
    return name


def test_spec_gives_files_and_the_trainees_own_environment_and_consumes_reset(client, app, trainee):
    name = _launched(app, trainee)
    body = _spec(client, app, f"u{trainee.id}", name).get_json()
    with app.app_context():
        seed = trainee_seed(trainee.id, TEST_COURSE, TEST_LAB)
    env = body["environment"]
    assert env["MQTT_TOPIC_PREFIX"] == f"nia/line/{trainee.id}/" and env["MQTT_USERNAME"] == f"trainee-{trainee.id}"
    assert env["LAB_SEED"] == str(seed) and env["LAB_SCENARIO"] == TEST_SCENARIO
    files = {f["path"]: base64.b64decode(f["content_b64"]) for f in body["files"]}
    assert files["sensor-lab.ipynb"] == release_notebook()
    assert body["default_url"] == "/lab/tree/sensor-lab.ipynb" and body["reset"] is True
    assert _spec(client, app, f"u{trainee.id}", name).get_json()["reset"] is False


def test_spec_refuses_an_unenrolled_trainee(client, app, make_user):
    from lms.models import Enrolment

    user = make_user(role="trainee")
    name = _launched(app, user)
    assert _spec(client, app, f"u{user.id}", name).status_code == 403  # never enrolled
    with app.app_context():
        assert db.session.query(Enrolment).filter_by(user_id=user.id).count() == 0


def test_simulator_failure_is_503_not_500(client, app, trainee):
    name = _launched(app, trainee)
    providers = app.extensions["nia.line_providers"]

    def broken(user_id, spec, seed):
        raise ConnectionRefusedError("simulator down")

    providers.insert(0, broken)
    try:
        response = _spec(client, app, f"u{trainee.id}", name)
    finally:
        providers.remove(broken)
    assert response.status_code == 503 and "not available" in response.get_json()["title"]


def test_real_line_provider_with_the_simulator_down_is_503(client, app, trainee, monkeypatch):
    """virtual_lab's own line provider (registered first) against a closed control port: a clear 503."""
    from tests.fixtures.oidc import free_port

    name = _launched(app, trainee)
    monkeypatch.setitem(app.config, "LAB_SERVICE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setitem(app.config, "LAB_SERVICE_TOKEN", "closed-port-control-token-0123")
    response = _spec(client, app, f"u{trainee.id}", name)
    assert response.status_code == 503 and "production line is not available" in response.get_json()["title"]


def test_hub_health_reports_down(client):
    body = json.loads(client.get("/healthz").data)
    assert body["components"]["jupyterhub"]["status"] == "down"


def test_hub_secrets_are_generated_once_and_private(app):
    from pathlib import Path

    from virtual_lab.hub.secrets import load_or_create

    path = Path(app.config["HUB_STATE_DIR"]) / "secrets.json"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    again = load_or_create(app.config["HUB_STATE_DIR"])
    assert again["lms_api_token"] == app.config["HUB_API_TOKEN"]


def test_hub_launcher_refuses_a_reserved_port(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "NIA_HUB_PORT": "1883", "NIA_HUB_STATE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "virtual_lab.hub"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and "NIA_HUB_PORT=1883 collides" in done.stderr
    assert not (tmp_path / "secrets.json").exists()


# --- submit from inside the lab (the hub is down here; the real hub cases are in tests/hub) -----------------------

def _from_lab(client, token: str | None, path: str = "/launch/_lab/submit"):
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"token {token}"
    return client.post(path, headers=headers) if path.endswith("submit") else client.get(path, headers=headers)


def test_in_lab_submit_without_a_valid_token_is_401_and_audited(client, app):
    from lms.models import AuditEvent

    for token in (None, "short", "has spaces and ; semicolons in it"):
        response = _from_lab(client, token)
        assert response.status_code == 401 and "Reopen the lab" in response.get_json()["title"]
    assert _from_lab(client, None, "/launch/_lab/submissions/1").status_code == 401
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="lab.token_refused").count() == 4


def test_in_lab_submit_with_the_hub_down_is_503(client):
    response = _from_lab(client, "a" * 64)
    assert response.status_code == 503 and "not reachable" in response.get_json()["title"]


def test_refused_lab_tokens_are_rate_limited_per_address(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "HUB_LAB_TOKEN_FAILURES_PER_IP", 3)
    assert [_from_lab(client, "bad").status_code for _ in range(3)] == [401, 401, 401]
    blocked = _from_lab(client, "a" * 64)  # even a good-looking token is not checked with the hub now
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert "Too many refused lab tokens" in blocked.get_json()["title"]


def _past_submissions(app, user, seconds_ago: list[int]) -> None:
    from datetime import timedelta

    from lms.models import AuditEvent
    from lms.models._types import utcnow

    with app.app_context():
        for ago in seconds_ago:
            db.session.add(AuditEvent(action="lab.submitted", target=f"{TEST_COURSE}/{TEST_LAB}", actor_id=user.id,
                                      at=utcnow() - timedelta(seconds=ago), detail={}))
        db.session.commit()


def test_submitting_again_straight_away_is_429_with_retry_after(client, app, trainee, csrf_token):
    _past_submissions(app, trainee, [2])
    response = client.post(LAB + "/submit", data={"csrf_token": csrf_token(LAB)},
                           headers={"Accept": "application/json"})
    assert response.status_code == 429 and "a moment ago" in response.get_json()["title"]
    assert 1 <= int(response.headers["Retry-After"]) <= app.config["HUB_SUBMIT_MIN_INTERVAL"]
    page = client.post(LAB + "/submit", data={"csrf_token": csrf_token(LAB)})
    assert page.status_code == 429 and "a moment ago" in page.get_data(as_text=True)


def test_hourly_submission_cap(client, app, trainee, csrf_token, monkeypatch):
    monkeypatch.setitem(app.config, "HUB_SUBMITS_PER_HOUR", 3)
    _past_submissions(app, trainee, [3000, 2000, 60])
    response = client.post(LAB + "/submit", data={"csrf_token": csrf_token(LAB)},
                           headers={"Accept": "application/json"})
    assert response.status_code == 429 and "3 times in the last hour" in response.get_json()["title"]
    assert 500 < int(response.headers["Retry-After"]) <= 600  # when the oldest leaves the hour


def test_spec_tells_the_lab_where_the_lms_is(client, app, trainee, monkeypatch):
    name = _launched(app, trainee)
    assert _spec(client, app, f"u{trainee.id}", name).get_json()["environment"]["NIA_LMS_URL"] == "http://localhost"
    monkeypatch.setitem(app.config, "HUB_LAB_LMS_URL", "http://lms.internal:8470")
    env = _spec(client, app, f"u{trainee.id}", name).get_json()["environment"]
    assert env["NIA_LMS_URL"] == "http://lms.internal:8470"
    assert "JUPYTERHUB_API_TOKEN" not in env and not any("SECRET" in key for key in env)


@pytest.mark.parametrize("key, value, message", [
    ("HUB_LAB_LMS_URL", "ftp://lms", "HUB_LAB_LMS_URL must start with http"),
    ("HUB_SUBMITS_PER_HOUR", "0", "HUB_SUBMITS_PER_HOUR must be at least 1"),
    ("HUB_SUBMIT_MIN_INTERVAL", "soon", "HUB_SUBMIT_MIN_INTERVAL must be a whole number")])
def test_bad_in_lab_settings_fail_loudly(app_config, key, value, message):
    from lms.config import ConfigError

    with pytest.raises(ConfigError, match=message):
        build_lab_app({**app_config, key: value})


# --- one seed source for the live line ("My line" page, lab launch) and grading's replay -----------------------

@pytest.fixture
def line_service(app, monkeypatch, tmp_path):
    from virtual_lab.broker.process import free_port
    from virtual_lab.control import make_server, serve_in_thread
    from virtual_lab.service import LabService
    from virtual_lab.transport import MemoryBus, MemoryTransport

    bus, token = MemoryBus(), "seed-test-control-token-0123456789"
    service = LabService(transport_factory=lambda line: MemoryTransport(line, bus), default_speed=20).start()
    port = free_port()
    server = make_server(service, "127.0.0.1", port, token)
    serve_in_thread(server)
    for key, value in (("LAB_SERVICE_URL", f"http://127.0.0.1:{port}"), ("LAB_SERVICE_TOKEN", token),
                       ("LAB_STATE_DIR", str(tmp_path / "lab")), ("LAB_CREDENTIAL_SECRET", "seed-secret")):
        monkeypatch.setitem(app.config, key, value)
    yield service
    server.shutdown()
    server.server_close()
    service.close()


@pytest.fixture
def grading_lab_row(app, grading_course_dir):
    """The grading sample course imported (not built: seeds need no release), scenario normal-shift."""
    from grading.models import Lab
    from lms import signals
    from lms.models import Course

    with app.app_context():
        course = Course(slug="grading-sample", title="Grading sample course")
        db.session.add(course)
        db.session.flush()
        signals.course_imported.send(app, course_dir=grading_course_dir, course=course, session=db.session)
        db.session.commit()
        return db.session.scalar(db.select(Lab).where(Lab.slug == "oee-shift")).id


def _my_line(client, csrf_token, scenario: str):
    assert client.post("/lab/start", data={"scenario": scenario, "csrf_token": csrf_token("/lab/")}).status_code == 302


def test_my_line_runs_a_labs_scenario_with_the_seed_grading_replays(client, app, make_user, login, csrf_token,
                                                                    line_service, grading_lab_row, grading_enrol):
    from grading import queries
    from grading.models import Lab

    trainee, other = grading_enrol(make_user("trainee")), grading_enrol(make_user("trainee"))
    with app.app_context():
        lab = db.session.get(Lab, grading_lab_row)
        assert lab.scenario == "normal-shift"
        expected = {user.id: queries.trainee_seed(lab, user.id) for user in (trainee, other)}
    for user in (trainee, other):
        login(user)
        _my_line(client, csrf_token, "normal-shift")
        client.post("/accounts/logout", data={"csrf_token": csrf_token("/lab/")})
    seeds = {line["trainee"]: line["seed"] for line in line_service.lines()}
    assert seeds == {f"u{user.id}": expected[user.id] for user in (trainee, other)}
    assert expected[trainee.id] != expected[other.id]


def test_a_scenario_no_lab_uses_gets_a_stable_private_seed(client, app, make_user, login, csrf_token, line_service,
                                                           grading_lab_row, grading_enrol):
    from lms.labs import line_seed

    trainee = grading_enrol(make_user("trainee"))
    login(trainee)
    _my_line(client, csrf_token, "smoke")
    first = line_service.lines()[0]["seed"]
    _my_line(client, csrf_token, "smoke")
    assert line_service.lines()[0]["seed"] == first
    with app.app_context():
        assert line_seed(trainee.id, "smoke") == first
        assert line_seed(trainee.id + 1000, "smoke") != first  # another trainee's line differs
