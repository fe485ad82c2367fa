"""In a real browser (Debian's chromium driven by Playwright, never a downloaded one): the trainee clicks "Open lab"
on the LMS lab page, the progress bar follows the hub's spawn progress as it advances, then JupyterLab opens with
the lab notebook (SSO into the hub on the way). Without chromium the test skips, except in CI where it fails."""
from __future__ import annotations

import os
import re

import pytest

from lms.labs.queries import server_name
from tests.fixtures.oidc import TEST_COURSE, TEST_LAB
from tests.hub.conftest import PASSWORD

pytestmark = pytest.mark.slow
CHROMIUM = os.environ.get("NIA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LAB = f"/launch/{TEST_COURSE}/{TEST_LAB}"
# Reports every change of the progress bar and its message to the test (kept across the page's own navigation).
WATCH_PROGRESS = """
document.addEventListener("DOMContentLoaded", () => {
  const bar = document.getElementById("lab-progress");
  const text = document.getElementById("lab-progress-message");
  if (!bar || !text) { return; }
  const report = () => window.niaProgress(bar.value, text.textContent, !document.getElementById("lab-launch").hidden);
  report();
  new MutationObserver(report).observe(bar, {attributes: true});
  new MutationObserver(report).observe(text, {childList: true, characterData: true, subtree: true});
});
"""


@pytest.fixture(scope="module")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        reason = f"chromium not installed at {CHROMIUM} (scripts/sysdeps.sh installs it on Debian)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: browser tests must run, not skip)", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def test_open_lab_shows_spawn_progress_then_opens_jupyterlab(stack, browser):
    from playwright.sync_api import expect

    alice = stack.users["alice"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    seen: list[tuple[float, str, bool]] = []
    context.expose_binding("niaProgress", lambda _source, value, message, shown: seen.append((value, message, shown)))
    context.add_init_script(WATCH_PROGRESS)
    page = context.new_page()
    try:
        page.goto(stack.lms_url + "/accounts/login")
        page.fill("#email", alice.email)
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.press("#password", "Enter")
        assert "/accounts/login" not in page.url

        page.goto(stack.lms_url + LAB)
        assert page.locator("#lab-launch").is_hidden()  # nothing starting yet
        lab_url = re.compile(re.escape(f"{stack.hub_url}/user/u{alice.id}/{server_name(TEST_COURSE, TEST_LAB)}/lab"))
        page.get_by_role("button", name="Open lab").click()
        page.wait_for_url(lab_url, timeout=150_000)
        # JupyterLab drew the staged notebook: its first cell's code is on screen.
        expect(page.locator(".jp-NotebookPanel .jp-Cell .cm-content").first).to_contain_text(
            "MQTT_TOPIC_PREFIX", timeout=150_000)
    finally:
        context.close()

    values = [value for value, _message, shown in seen if shown]
    messages = [message for _value, message, shown in seen if shown]
    assert values, f"the progress bar never showed; hub log:\n{stack.log_tail()}"
    assert values == sorted(values), values                       # it only moves forward...
    assert any(0 < value < 100 for value in values), values       # ...through the hub's intermediate step...
    assert values[-1] == 100 and "ready" in messages[-1], seen    # ...to ready, then the lab opened
    assert any("Spawning" in message or "requested" in message for message in messages), messages
