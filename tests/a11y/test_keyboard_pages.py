"""What axe cannot see: on every kind of page, Tab reaches the skip link first, then every control in turn with a
visible focus ring on screen, and leaves the page at the end (no keyboard trap); the page reflows at 320 CSS pixels;
progress bars expose their value and name; invalid fields point at their error text."""
from __future__ import annotations

import pytest

from tests.a11y.conftest import VIEWPORT
from tests.a11y.keyboard import KeyboardUser
from tests.a11y.pages import PAGES, PageKind, open_page
from tests.a11y.site import JOURNEY_COURSE

pytestmark = pytest.mark.slow
MAX_STOPS = 400


@pytest.mark.parametrize("kind", PAGES, ids=[p.name for p in PAGES])
def test_every_focus_stop_is_visible_and_focus_leaves_the_page(kind, role_pages, live_site):
    page = open_page(kind, "en", role_pages, live_site)
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    user = KeyboardUser(page, max_stops=MAX_STOPS)
    first = user.press("Tab")
    assert first is not None and first["href"] == "#main", f"first Tab stop is not the skip link: {user.trail}"
    assert first["rect"]["x"] >= 5 and first["rect"]["y"] >= 5, "the skip link's focus ring is cut off"
    for _ in range(MAX_STOPS):
        if user.press("Tab") is None:
            break
    else:
        pytest.fail(f"focus never left the page after {MAX_STOPS} Tab presses (keyboard trap?): {user.trail[-10:]}")
    assert len(user.trail) >= 3, f"too few focus stops: {user.trail}"


# Elements outside data tables (which WCAG 1.4.10 lets scroll in two dimensions) that stick out past the viewport.
OVERFLOWING = """() => [...document.querySelectorAll('header *, main *, footer *')].filter(e => {
  const r = e.getBoundingClientRect();
  if (r.width === 0 || r.right <= innerWidth + 1 || e.closest('table') || getComputedStyle(e).position === 'absolute')
    return false;
  for (let up = e.parentElement; up; up = up.parentElement)
    if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(up).overflowX)) return false;
  return true;
}).slice(0, 5).map(e => `<${e.tagName.toLowerCase()} class="${e.className}"> ends at `
                        + `${Math.round(e.getBoundingClientRect().right)}px`)"""


@pytest.mark.parametrize("kind", PAGES, ids=[p.name for p in PAGES])
def test_page_reflows_at_320_css_pixels(kind, role_pages, live_site):
    """WCAG 1.4.10: a 1280px window zoomed to 400% must not need sideways scrolling (tables excepted)."""
    page = role_pages(kind.role)
    page.set_viewport_size({"width": 320, "height": 640})
    try:
        open_page(kind, "en", role_pages, live_site)
        wide = page.evaluate(OVERFLOWING)
    finally:
        page.set_viewport_size(VIEWPORT)
    assert not wide, f"{kind.name} does not reflow at 320px: {wide}"


def _progressbars(page) -> list[dict]:
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    bars = []
    for node in nodes:
        if node.get("role", {}).get("value") == "progressbar" and not node.get("ignored"):
            props = {p["name"]: p["value"].get("value") for p in node.get("properties", [])}
            bars.append({"name": node.get("name", {}).get("value", ""), "now": node.get("value", {}).get("value"),
                         "min": props.get("valuemin"), "max": props.get("valuemax")})
    return bars


@pytest.mark.parametrize("path", ["/dashboard", f"/courses/{JOURNEY_COURSE}"])
def test_progress_bars_expose_name_value_and_visible_text(path, role_pages, live_site):
    page = role_pages("trainee")
    page.goto(live_site.url("/locale/en?next=" + path))
    bars = _progressbars(page)
    texts = page.locator("main .progress-text").all_inner_texts()
    assert bars and len(bars) == len(texts)
    for bar, text in zip(bars, texts):
        assert bar["name"].strip(), f"progress bar without a name: {bar}"
        assert (bar["min"], bar["max"]) == (0, 100) and bar["now"] is not None, bar
        assert str(int(bar["now"])) in text, f"visible text {text!r} does not match the value {bar['now']}"
    assert 100 in [bar["now"] for bar in bars]  # the seeded trainee finished the journey course


@pytest.mark.parametrize("name", ["register-errors", "reset-password-errors", "profile-password-errors"])
def test_invalid_fields_point_at_their_error_text(name, role_pages, live_site):
    kind: PageKind = next(p for p in PAGES if p.name == name)
    page = open_page(kind, "en", role_pages, live_site)
    invalid = page.locator("main [aria-invalid=true]")
    assert invalid.count() >= 1, "no field was marked invalid"
    for index in range(invalid.count()):
        field = invalid.nth(index)
        ids = (field.get_attribute("aria-describedby") or "").split()
        errors = [page.locator(f"#{i}") for i in ids if i.endswith("-error")]
        assert errors and errors[0].inner_text().strip(), f"{field.get_attribute('id')} has no linked error text"
        assert errors[0].is_visible()
