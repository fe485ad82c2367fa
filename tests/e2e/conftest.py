"""Fixtures of the end-to-end journey: the running platform (tests/e2e/stack.py), Debian's chromium driven by
Playwright (never a downloaded browser), one browser context per person, and screenshots per step.

Without chromium or bubblewrap the journey skips with the reason; under CI (CI=true) it fails instead, so a
broken CI image cannot pass by skipping."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.e2e.stack import ROOT, Platform
from tests.hub.conftest import Stack

CHROMIUM = os.environ.get("NIA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
COURSES = Path(__file__).parent / "data" / "courses"
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
ADMIN = {"email": "ada.admin@example.com", "password": "admin passphrase for e2e", "name": "Ada Admin"}


def unavailable(reason: str):
    """Skip locally, fail in CI."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the end-to-end journey must run, not skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """Migrated, courses imported, first admin created (as the README says), every component running."""
    if not shutil.which("bwrap"):
        unavailable("bubblewrap (bwrap) is not installed: grading refuses to run (scripts/sysdeps.sh installs it)")
    running = Platform(tmp_path_factory.mktemp("e2e-platform"))
    running.prepare(COURSES)
    running.flask("users", "create", "--email", ADMIN["email"], "--password", ADMIN["password"], "--role", "admin",
                  "--name", ADMIN["name"])
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def hub(platform):
    """The hub API as tests/hub uses it (the LMS's service token), for checks behind what the browser shows."""
    return Stack(SimpleNamespace(config={"HUB_API_TOKEN": platform.hub_api_token()}), platform.lms_url,
                 platform.hub_url, platform.log_dir / "jupyterhub.log")


@pytest.fixture(scope="module")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"chromium not installed at {CHROMIUM} (scripts/sysdeps.sh installs it on Debian)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def people(browser):
    """name -> a page in that person's own browser context (own cookies), created on first use."""
    pages, contexts = {}, []

    def page_of(name: str):
        if name not in pages:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            context.set_default_timeout(30_000)
            contexts.append(context)
            pages[name] = context.new_page()
        return pages[name]

    page_of.pages = pages  # for the failure screenshots below
    yield page_of
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def shot():
    """shot(page, "name"): a full-page screenshot test-artifacts/e2e/NN-name.png, numbered in journey order."""
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    taken = []

    def take(page, name: str, full_page: bool = True) -> Path:
        path = ARTIFACTS / f"{len(taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        taken.append(path)
        return path

    return take


class Journey(dict):
    """What one step hands to the next (credential id, files, names); the tests run in file order."""

    def __missing__(self, key: str):
        pytest.fail(f"an earlier step of the journey failed (it did not hand on {key!r})", pytrace=False)


@pytest.fixture(scope="module")
def journey():
    return Journey()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failing step, a screenshot of every person's page (test-artifacts/e2e/FAILED-…) for the CI log."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed or "people" not in item.fixturenames:
        return
    people = item.funcargs["people"]
    for name, page in getattr(people, "pages", {}).items():
        try:
            page.screenshot(path=str(ARTIFACTS / f"FAILED-{item.name}-{name}.png"))
        except Exception as error:  # a crashed page must not hide the test's own failure
            report.sections.append(("screenshot", f"{name}: {error}"))
