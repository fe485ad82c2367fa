"""Browser fixtures for the accessibility tests: Debian's chromium driven by Playwright (never a downloaded
browser), axe-core from the npm registry, and one live LMS for the whole session.

Without chromium or the registry the tests skip with the reason; under CI (CI=true) they fail instead, so a
broken CI image cannot pass by skipping."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.a11y.axe import AxeUnavailable, load_axe_source, save_failure
from tests.a11y.site import PASSWORD, start_site

CHROMIUM = os.environ.get("NIA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 900}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "a11y"


def unavailable(reason: str):
    """Skip locally, fail in CI."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def axe_source() -> str:
    try:
        return load_axe_source()
    except AxeUnavailable as error:
        unavailable(f"axe-core not available from the npm registry: {error}")


@pytest.fixture(scope="package")  # not session: an open sync_playwright() blocks every later Playwright user
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"chromium not installed at {CHROMIUM} (scripts/sysdeps.sh installs it on Debian)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="package")
def live_site(tmp_path_factory):
    site, server = start_site(tmp_path_factory.mktemp("a11y-site"))
    yield site
    server.stop()


def sign_in(page, site, role: str) -> None:
    """Through the real login form (as a person would)."""
    page.goto(site.url("/accounts/login"))
    page.fill("#email", site.emails[role])
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.press("#password", "Enter")
    assert "/accounts/login" not in page.url, f"{role} could not log in"


@pytest.fixture(scope="package")
def role_pages(browser, live_site):
    """role -> a page in its own browser context, signed in once ("anonymous" has no account)."""
    pages, contexts = {}, []

    def get(role: str):
        if role not in pages:
            context = browser.new_context(viewport=VIEWPORT)
            context.set_default_timeout(30_000)
            contexts.append(context)
            page = context.new_page()
            if role != "anonymous":
                sign_in(page, live_site, role)
            pages[role] = page
        return pages[role]

    yield get
    for context in contexts:
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def fresh_page(browser, request):
    """A page in a new browser context (no cookies); if the test fails its screen is saved to
    test-artifacts/a11y/<test>.png before the context is closed."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        save_failure(page, ARTIFACTS, request.node.name)
    context.close()
