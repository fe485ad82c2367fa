"""Keyboard-only navigation helpers: move focus with Tab / Shift+Tab and check, at every stop, that the focused
control is on screen and shows a focus indicator a sighted keyboard user can see (WCAG 2.4.7, 1.4.11)."""
from __future__ import annotations

import re
from typing import Callable

FOCUS_INFO = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const cs = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  let bg = 'rgb(255, 255, 255)';
  for (let up = el.parentElement; up; up = up.parentElement) {
    const c = getComputedStyle(up).backgroundColor;
    if (c && c !== 'transparent' && !/^rgba\\(.*, 0\\)$/.test(c)) { bg = c; break; }
  }
  const label = el.labels && el.labels.length ? el.labels[0].innerText : '';
  return {tag: el.tagName.toLowerCase(), id: el.id, type: el.getAttribute('type') || '',
          name: (el.getAttribute('aria-label') || label || el.innerText || el.value || '').trim().slice(0, 80),
          href: el.getAttribute('href'), rel: el.getAttribute('rel'),
          formAction: el.form ? (el.form.getAttribute('action') || location.pathname) : null,
          inMain: !!el.closest('main'), targetOnly: el.getAttribute('tabindex') === '-1',
          focusVisible: el.matches(':focus-visible'),
          outlineStyle: cs.outlineStyle, outlineWidth: parseFloat(cs.outlineWidth) || 0,
          outlineColor: cs.outlineColor, background: bg,
          rect: {x: r.x, y: r.y, w: r.width, h: r.height}, viewport: {w: innerWidth, h: innerHeight}};
}"""


def _rgb(css: str) -> tuple[float, float, float]:
    parts = [float(p) for p in re.findall(r"[\d.]+", css)[:3]]
    return parts[0], parts[1], parts[2]


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two CSS rgb()/rgba() colours (alpha ignored: our focus colours are opaque)."""
    def luminance(css: str) -> float:
        channels = []
        for value in _rgb(css):
            c = value / 255
            channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def focus_problems(info: dict) -> list[str]:
    """Why this focus stop is not visibly focused (empty when it is). A skip link's target (tabindex=-1, e.g. <main>)
    is not a control and is exempt from the ring."""
    problems = []
    if info["targetOnly"]:
        return problems
    rect, view = info["rect"], info["viewport"]
    if rect["w"] <= 0 or rect["h"] <= 0:
        problems.append("has no size (invisible)")
    elif rect["x"] >= view["w"] or rect["y"] >= view["h"] or rect["x"] + rect["w"] <= 0 or rect["y"] + rect["h"] <= 0:
        problems.append(f"is off screen at {rect}")
    if not info["focusVisible"]:
        problems.append("does not match :focus-visible")
    if info["outlineStyle"] in ("none", "hidden") or info["outlineWidth"] < 2:
        problems.append(f"has no focus outline ({info['outlineStyle']} {info['outlineWidth']}px)")
    elif contrast(info["outlineColor"], info["background"]) < 3:
        problems.append(f"focus outline {info['outlineColor']} has contrast "
                        f"{contrast(info['outlineColor'], info['background']):.2f} < 3 on {info['background']}")
    return problems


def describe_stop(info: dict | None) -> str:
    if info is None:
        return "(nothing: focus left the page)"
    where = info["href"] or info["formAction"] or ""
    return f"<{info['tag']}{' #' + info['id'] if info['id'] else ''}> {info['name']!r} {where}".strip()


class KeyboardUser:
    """Drives a page with the keyboard only and keeps the trail of focus stops for failure messages."""

    def __init__(self, page, max_stops: int = 150):
        self.page, self.max_stops, self.trail = page, max_stops, []

    def focused(self) -> dict | None:
        return self.page.evaluate(FOCUS_INFO)

    def press(self, key: str) -> dict | None:
        self.page.keyboard.press(key)
        info = self.focused()
        self.trail.append(describe_stop(info))
        if info is not None:
            problems = focus_problems(info)
            assert not problems, f"on {self.page.url} focus stop {describe_stop(info)} {'; '.join(problems)}"
        return info

    def tab_to(self, wanted: Callable[[dict], bool], what: str, backwards: bool = False) -> dict:
        """Tab (or Shift+Tab) until the focused control is the wanted one, checking every stop on the way."""
        key = "Shift+Tab" if backwards else "Tab"
        for _ in range(self.max_stops):
            info = self.press(key)
            if info is not None and wanted(info):
                return info
        raise AssertionError(f"{what}: not reached with {key} on {self.page.url} after {self.max_stops} stops; "
                             f"last stops: {self.trail[-12:]}")

    def activate(self, key: str = "Enter") -> None:
        """Press Enter (links, buttons) or Space (buttons) and wait for the page it leads to."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)


def href_is(path: str) -> Callable[[dict], bool]:
    return lambda info: (info["href"] or "").split("?")[0] == path


def href_starts(prefix: str) -> Callable[[dict], bool]:
    return lambda info: (info["href"] or "").startswith(prefix)


def element_id(identifier: str) -> Callable[[dict], bool]:
    return lambda info: info["id"] == identifier


def submits_to(suffix: str) -> Callable[[dict], bool]:
    return lambda info: info["tag"] == "button" and (info["formAction"] or "").endswith(suffix)
