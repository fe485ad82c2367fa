"""The checkers themselves must be able to fail: a tampered axe-core is refused, axe reports a broken page, the
focus checker catches a missing or faint focus ring, and a missing browser fails (not skips) under CI."""
from __future__ import annotations

import pytest

from tests.a11y import axe
from tests.a11y.conftest import unavailable
from tests.a11y.keyboard import KeyboardUser, contrast

BROKEN_PAGE = """<!doctype html><html><head><title>Broken</title></head><body>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<input type="text" id="unlabelled">
<p style="color:#bbb;background:#fff">Faint grey text that nobody can read</p>
<a href="/somewhere"></a>
<table><tr><th></th><td>x</td></tr></table>
</body></html>"""


def test_tampered_tarball_is_refused():
    with pytest.raises(axe.IntegrityError):
        axe.script_from_tarball(b"not the axe-core release")


def test_damaged_cache_is_fetched_again(tmp_path, axe_source):
    good = (axe.CACHE_DIR / f"axe-core-{axe.AXE_VERSION}.tgz").read_bytes()
    cached = tmp_path / f"axe-core-{axe.AXE_VERSION}.tgz"
    cached.write_bytes(good[:-10])  # cut short
    fetched = []
    script = axe.load_axe_source(tmp_path, fetch=lambda url: fetched.append(url) or good)
    assert fetched == [axe.tarball_url()] and script == axe_source
    assert cached.read_bytes() == good
    assert axe.load_axe_source(tmp_path, fetch=lambda url: pytest.fail("cache not used")) == axe_source


def test_unreachable_registry_is_reported_as_unavailable(tmp_path, monkeypatch):
    monkeypatch.setenv("NIA_NPM_REGISTRY", "http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(axe.AxeUnavailable):
        axe.load_axe_source(tmp_path)


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_missing_tools_fail_in_ci_and_skip_locally(ci, outcome, monkeypatch):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome):
        unavailable("chromium not installed")


@pytest.mark.slow
def test_axe_reports_a_broken_page(browser, axe_source):
    page = browser.new_page()
    try:
        page.set_content(BROKEN_PAGE)
        violations = axe.run_axe(page, axe_source)
    finally:
        page.close()
    found = {v["id"] for v in violations}
    assert {"html-has-lang", "image-alt", "label", "color-contrast", "link-name",  # WCAG A/AA
            "page-has-heading-one", "region"} <= found, found  # best practice
    text = axe.describe(violations)
    assert "image-alt" in text and "target: img" in text and "alternative text" in text


def test_contrast_ratio():
    assert round(contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)"), 1) == 21.0
    assert contrast("rgb(255, 191, 71)", "rgb(255, 255, 255)") < 3  # the old yellow-only ring failed 1.4.11


@pytest.mark.slow
@pytest.mark.parametrize("style, problem", [
    ("button:focus { outline: none; }", "has no focus outline"),
    ("button:focus-visible { outline: 3px solid #ffbf47; }", "contrast"),
])
def test_focus_checker_catches_an_invisible_ring(style, problem, browser):
    page = browser.new_page()
    try:
        page.set_content(f"<!doctype html><html lang=en><head><style>{style}</style></head>"
                         "<body><button>Press me</button></body></html>")
        with pytest.raises(AssertionError, match=problem):
            KeyboardUser(page).press("Tab")
    finally:
        page.close()


@pytest.mark.slow
def test_reflow_check_finds_content_wider_than_the_screen(browser):
    from tests.a11y.test_keyboard_pages import OVERFLOWING

    page = browser.new_page(viewport={"width": 320, "height": 640})
    try:
        page.set_content("<!doctype html><html lang=en><body><main><p style='width:500px'>wide</p>"
                         "<table><tr><td style='width:900px'>tables may scroll</td></tr></table></main></body></html>")
        wide = page.evaluate(OVERFLOWING)
    finally:
        page.close()
    assert len(wide) == 1 and wide[0].startswith("<p")
