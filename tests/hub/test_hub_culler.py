"""jupyterhub-idle-culler runs as a hub service: an idle lab server is stopped and the trainee's files stay."""
from __future__ import annotations

import time

import pytest
import requests

from lms.labs.queries import server_name
from tests.fixtures.oidc import TEST_COURSE, TEST_LAB
from tests.hub.conftest import running_stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def culling_stack(app_config, tmp_path_factory):
    env = {"NIA_HUB_CULL_TIMEOUT": "4", "NIA_HUB_CULL_EVERY": "2"}
    with running_stack(app_config, tmp_path_factory.mktemp("hubcull"), env) as running:
        yield running


def test_idle_server_is_culled_without_losing_work(culling_stack):
    stack = culling_stack
    web = stack.browser("alice")
    lab = f"/launch/{TEST_COURSE}/{TEST_LAB}"
    click = web.post(stack.lms_url + lab + "/launch", data={"csrf_token": stack.csrf(web, lab)},
                     headers={"Accept": "application/json"}, timeout=60)
    assert click.status_code == 200, click.text
    name, server = f"u{stack.users['alice'].id}", server_name(TEST_COURSE, TEST_LAB)
    stack.wait_ready(name, server)
    base = f"{stack.hub_url}/user/{name}/{server}/api/contents"
    saved = requests.put(f"{base}/notes.txt", headers=stack.service_headers, timeout=30,
                         json={"type": "file", "format": "text", "content": "my measurements"})
    assert saved.status_code in (200, 201), saved.text[:200]

    deadline = time.monotonic() + 40
    while stack.hub_api("GET", f"/users/{name}").json()["servers"].get(server) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not stack.hub_api("GET", f"/users/{name}").json()["servers"].get(server), stack.log_tail()
    assert "Culling server" in stack.log.read_text()

    stack.hub_api("POST", f"/users/{name}/servers/{server}")  # the next launch finds the work again
    stack.wait_ready(name, server)
    kept = requests.get(f"{base}/notes.txt", headers=stack.service_headers, timeout=30).json()
    assert kept["content"] == "my measurements"


def test_launch_recreates_the_hub_account_when_the_hub_lost_it(culling_stack):
    """Repeat launches skip creating the hub account; if the hub's state was reset, the launch still works."""
    stack = culling_stack
    web = stack.browser("alice")
    lab = f"/launch/{TEST_COURSE}/{TEST_LAB}"
    name, server = f"u{stack.users['alice'].id}", server_name(TEST_COURSE, TEST_LAB)
    if stack.hub_api("GET", f"/users/{name}").json()["servers"].get(server):
        assert stack.hub_api("DELETE", f"/users/{name}/servers/{server}").status_code in (202, 204)
    deadline = time.monotonic() + 30
    while stack.hub_api("GET", f"/users/{name}").json()["servers"].get(server) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert stack.hub_api("DELETE", f"/users/{name}").status_code == 204
    click = web.post(stack.lms_url + lab + "/launch", data={"csrf_token": stack.csrf(web, lab)},
                     headers={"Accept": "application/json"}, timeout=60)
    assert click.status_code == 200 and click.json()["state"] in ("started", "pending"), click.text
    stack.wait_ready(name, server)
