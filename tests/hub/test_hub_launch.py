"""End to end on loopback: LMS (OIDC provider) + real JupyterHub + proxy + single-user servers.

The tests run in file order and share one hub (starting it costs ~4 s, each spawn ~5 s).
"""
from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from lms.labs.queries import server_name, trainee_seed
from tests.fixtures.oidc import TEST_COURSE, TEST_LAB, TEST_SCENARIO, release_notebook
from tests.hub.helpers import run_in_kernel, sse_events

pytestmark = pytest.mark.slow
SERVER = server_name(TEST_COURSE, TEST_LAB)
LAB = f"/launch/{TEST_COURSE}/{TEST_LAB}"
ENV_CODE = ("import os, json; print(json.dumps({k: os.environ.get(k) for k in ('MQTT_HOST', 'MQTT_PORT', "
            "'MQTT_USERNAME', 'MQTT_PASSWORD', 'MQTT_TOPIC_PREFIX', 'LAB_SCENARIO', 'LAB_SEED')}))")


def hub_name(stack, key: str) -> str:
    return f"u{stack.users[key].id}"


def kernel_env(stack, key: str) -> dict:
    base = f"{stack.hub_url}/user/{hub_name(stack, key)}/{SERVER}"
    return json.loads(run_in_kernel(base, stack.service_headers, ENV_CODE))


def lms_post(stack, web, path: str, json_api: bool = True) -> requests.Response:
    token = stack.csrf(web, LAB)
    headers = {"Accept": "application/json"} if json_api else {}
    return web.post(stack.lms_url + path, data={"csrf_token": token}, headers=headers, timeout=60,
                    allow_redirects=False)


@pytest.fixture(scope="module")
def alice(stack):
    web = stack.browser("alice")
    assert stack.hub_login(web).url.endswith("/hub/home")
    return web


def test_sso_maps_roles_and_enrolments_to_hub_groups(stack, alice):
    model = stack.hub_api("GET", f"/users/{hub_name(stack, 'alice')}").json()
    assert set(model["groups"]) == {"trainee", "enrolled", f"course-{TEST_COURSE}"} and not model["admin"]
    instructor = stack.browser("ivan")
    assert stack.hub_login(instructor).url.endswith("/hub/home")
    not_enrolled = stack.browser("carol")
    refused = stack.hub_login(not_enrolled)
    assert refused.status_code == 403


def test_launch_refuses_strangers_and_unknown_labs(stack):
    carol = stack.browser("carol")
    assert lms_post(stack, carol, LAB + "/launch").status_code == 403
    bob = stack.browser("bob")
    assert lms_post(stack, bob, f"/launch/{TEST_COURSE}/no-such-lab/launch").status_code == 404
    assert bob.get(f"{stack.lms_url}/launch/{TEST_COURSE}/no-such-lab", timeout=10).status_code == 404
    # Bob has no server: submitting says so clearly.
    response = lms_post(stack, bob, LAB + "/submit")
    assert response.status_code == 409 and "not running" in response.json()["title"]


def test_launch_double_click_progress_open_and_kernel_env(stack, alice):
    results: list[requests.Response] = []
    clicks = [threading.Thread(target=lambda: results.append(lms_post(stack, alice, LAB + "/launch")))
              for _ in range(2)]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    assert [r.status_code for r in results] == [200, 200], [r.text[:200] for r in results]
    assert {r.json()["state"] for r in results} <= {"started", "pending", "running"}
    servers = stack.hub_api("GET", f"/users/{hub_name(stack, 'alice')}").json()["servers"]
    assert list(servers) == [SERVER]

    with alice.get(stack.lms_url + LAB + "/progress", stream=True, timeout=90) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        events = list(sse_events(stream))
    assert events[-1]["ready"] is True and events[-1]["progress"] == 100, events

    page = alice.get(results[0].json()["open_url"], timeout=60)  # single-user OAuth with the hub, like a browser
    assert page.status_code == 200 and "JupyterLab" in page.text
    base = f"{stack.hub_url}/user/{hub_name(stack, 'alice')}/{SERVER}"
    notebook = alice.get(f"{base}/api/contents/sensor-lab.ipynb", timeout=30).json()
    assert notebook["type"] == "notebook" and notebook["content"]["cells"][0]["id"] == "env"

    alice_id = stack.users["alice"].id
    with stack.app.app_context():
        seed = trainee_seed(alice_id, TEST_COURSE, TEST_LAB)
    assert kernel_env(stack, "alice") == {
        "MQTT_HOST": "127.0.0.1", "MQTT_PORT": "18830", "MQTT_USERNAME": f"trainee-{alice_id}",
        "MQTT_PASSWORD": f"pw-{alice_id}-{seed}", "MQTT_TOPIC_PREFIX": f"nia/line/{alice_id}/",
        "LAB_SCENARIO": TEST_SCENARIO, "LAB_SEED": str(seed)}


def test_another_trainee_cannot_open_the_server(stack):
    bob = stack.browser("bob")
    assert stack.hub_login(bob).url.endswith("/hub/home")
    url = f"{stack.hub_url}/user/{hub_name(stack, 'alice')}/{SERVER}/lab"
    assert bob.get(url, timeout=30).status_code == 403
    api = bob.get(f"{stack.hub_url}/user/{hub_name(stack, 'alice')}/{SERVER}/api/contents", timeout=30)
    assert api.status_code == 403


def test_tampered_user_options_change_nothing_and_unknown_servers_fail_cleanly(stack):
    name = hub_name(stack, "alice")
    before = kernel_env(stack, "alice")
    assert stack.hub_api("DELETE", f"/users/{name}/servers/{SERVER}").status_code in (202, 204)
    deadline = time.monotonic() + 30
    while stack.hub_api("GET", f"/users/{name}").json()["servers"].get(SERVER) and time.monotonic() < deadline:
        time.sleep(0.2)
    tampered = {"user_options": {"MQTT_PASSWORD": "guess", "MQTT_TOPIC_PREFIX": "nia/line/",
                                 "environment": {"LAB_SEED": "1"}, "seed": 1}}
    assert stack.hub_api("POST", f"/users/{name}/servers/{SERVER}", json=tampered).status_code in (201, 202)
    stack.wait_ready(name, SERVER)
    assert kernel_env(stack, "alice") == before

    assert stack.hub_api("POST", f"/users/{name}/servers/bogus").status_code in (201, 202)
    progress = stack.hub_api("GET", f"/users/{name}/servers/bogus/progress", stream=True)
    failed = [e for e in sse_events(progress) if e.get("failed")]
    assert failed and "No lab was launched" in failed[0]["message"], stack.log_tail()


def test_submit_then_reset_keeps_a_backup(stack, alice):
    name = hub_name(stack, "alice")
    base = f"{stack.hub_url}/user/{name}/{SERVER}/api/contents"
    edited = json.loads(release_notebook())
    edited["cells"][0]["source"] = "answer = 42  # my work"
    put = requests.put(f"{base}/sensor-lab.ipynb", headers=stack.service_headers, timeout=30,
                       json={"type": "notebook", "format": "json", "content": edited})
    assert put.status_code == 200, put.text[:300]

    submitted = lms_post(stack, alice, LAB + "/submit")
    assert submitted.status_code == 202 and submitted.json()["status"] == "queued"
    last = stack.app.extensions["test.submissions"][-1]
    assert last["user_id"] == stack.users["alice"].id and last["filename"] == "sensor-lab.ipynb"
    assert last["notebook"]["cells"][0]["source"] == "answer = 42  # my work"

    reset = lms_post(stack, alice, LAB + "/reset", json_api=False)
    assert reset.status_code == 302 and "launching=1" in reset.headers["Location"]
    stack.wait_ready(name, SERVER)
    fresh = requests.get(f"{base}/sensor-lab.ipynb", headers=stack.service_headers, timeout=30).json()
    assert "my work" not in fresh["content"]["cells"][0]["source"]
    backups = requests.get(f"{base}/backups", headers=stack.service_headers, timeout=30).json()["content"]
    assert len(backups) == 1
    kept = requests.get(f"{base}/backups/{backups[0]['name']}/sensor-lab.ipynb", headers=stack.service_headers,
                        timeout=30).json()
    assert kept["content"]["cells"][0]["source"] == "answer = 42  # my work"


def lab_token(stack, key: str) -> str:
    """The single-user server's own JUPYTERHUB_API_TOKEN, as the in-lab command reads it."""
    base = f"{stack.hub_url}/user/{hub_name(stack, key)}/{SERVER}"
    return run_in_kernel(base, stack.service_headers, "import os; print(os.environ['JUPYTERHUB_API_TOKEN'])").strip()


def lab_call(stack, token: str | None, path: str = "/launch/_lab/submit", server: str | None = None,
             method: str = "POST") -> requests.Response:
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"token {token}"
    if server is not None:
        headers["X-NIA-Lab-Server"] = server
    return requests.request(method, stack.lms_url + path, headers=headers, timeout=60)


def test_submit_from_inside_the_lab_needs_that_labs_own_token(stack, monkeypatch):
    monkeypatch.setitem(stack.app.config, "HUB_SUBMIT_MIN_INTERVAL", 0)
    name, alice_id = hub_name(stack, "alice"), stack.users["alice"].id
    base = f"{stack.hub_url}/user/{name}/{SERVER}"
    printed = run_in_kernel(base, stack.service_headers, "%submit --no-wait")  # loaded by the IPython startup file
    assert "Submitted sensor-lab.ipynb as last saved at" in printed, printed
    assert stack.app.extensions["test.submissions"][-1]["user_id"] == alice_id

    token = lab_token(stack, "alice")
    accepted = lab_call(stack, token, server=SERVER)
    assert accepted.status_code == 202 and accepted.json()["notebook"] == "sensor-lab.ipynb", accepted.text[:300]
    assert accepted.json()["status_url"].startswith(stack.lms_url + "/launch/_lab/submissions/")
    assert stack.app.extensions["test.submissions"][-1]["user_id"] == alice_id  # always the token's owner

    missing = lab_call(stack, None)
    assert missing.status_code == 401 and "not accepted" in missing.json()["title"]
    made = stack.hub_api("POST", f"/users/{name}/tokens", json={"note": "revoked by the test"}).json()
    assert stack.hub_api("DELETE", f"/users/{name}/tokens/{made['id']}").status_code == 204
    revoked = lab_call(stack, made["token"])
    assert revoked.status_code == 401 and "revoked" in revoked.json()["title"]
    personal = stack.hub_api("POST", f"/users/{name}/tokens", json={"note": "not a server's"}).json()["token"]
    not_a_server = lab_call(stack, personal)
    assert not_a_server.status_code == 403 and "lab's own server" in not_a_server.json()["title"]
    other = "lab-000000000000"
    scoped = stack.hub_api("POST", f"/users/{name}/tokens",
                           json={"scopes": [f"access:servers!server={name}/{other}"]}).json()["token"]
    no_lab = lab_call(stack, scoped)
    assert no_lab.status_code == 404 and "not a lab opened from NI Academy" in no_lab.json()["title"]
    elsewhere = lab_call(stack, token, server=other)
    assert elsewhere.status_code == 403 and "another lab server" in elsewhere.json()["title"]
    # The test lab's grading has no status provider here: any id is simply not found (real grading: test_hub_line).
    assert lab_call(stack, token, "/launch/_lab/submissions/1", method="GET").status_code == 404


def test_lms_logout_ends_the_hub_session(stack, alice, monkeypatch):
    monkeypatch.setitem(stack.app.config, "HUB_SUBMIT_MIN_INTERVAL", 0)
    name = hub_name(stack, "alice")
    token = lab_token(stack, "alice")
    assert alice.get(f"{stack.hub_url}/hub/home", timeout=30).url.endswith("/hub/home")
    opened = alice.get(f"{stack.hub_url}/user/{name}/{SERVER}/lab", timeout=60)  # the lab's own browser session
    assert opened.status_code == 200 and "JupyterLab" in opened.text
    assert any(t["session_id"] for t in stack.hub_api("GET", f"/users/{name}/tokens").json()["api_tokens"])
    csrf = stack.csrf(alice, LAB)
    assert alice.post(f"{stack.lms_url}/accounts/logout", data={"csrf_token": csrf}, timeout=30).ok
    left = stack.hub_api("GET", f"/users/{name}/tokens").json()["api_tokens"]
    assert [t["note"] for t in left] == [f"Server at /user/{name}/{SERVER}/"]  # only the running lab's own
    time.sleep(2.5)  # the hub re-checks auth after NIA_HUB_AUTH_REFRESH_AGE (2 s here)
    back = alice.get(f"{stack.hub_url}/hub/home", timeout=30)
    assert back.url.startswith(stack.lms_url + "/accounts/login"), back.url
    lab = alice.get(f"{stack.hub_url}/user/{name}/{SERVER}/lab", timeout=30)  # the lab's browser session too
    assert lab.url.startswith(stack.lms_url + "/accounts/login"), lab.url
    # The running lab itself keeps working: its own token still submits (for Alice only).
    assert lab_call(stack, token).status_code == 202
    assert stack.app.extensions["test.submissions"][-1]["user_id"] == stack.users["alice"].id
