"""Driving JupyterLab 4 the way a trainee does: click into a cell, type, add a cell, Run > Run All Cells, save.

Selectors are JupyterLab's own DOM classes (stable across 4.x); text goes in through the keyboard (CodeMirror 6
receives it as typed input), not through the contents API.
"""
from __future__ import annotations

CELLS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"
_KERNEL_IDLE = """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]
  .some(w => /^(?!No Kernel).+ \\| Idle$/.test(w.textContent.trim()))"""
_ALL_RAN = """() => {
  const prompts = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')];
  return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""


def wait_until_ready(page, timeout_ms: int = 90_000) -> None:
    """The notebook is rendered and a kernel is connected and idle (the status bar says "<kernel> | Idle"; the
    toolbar's execution indicator already says idle while there is no kernel yet, and cells run then are lost)."""
    page.wait_for_selector(CELLS, timeout=timeout_ms)
    page.wait_for_function(_KERNEL_IDLE, timeout=timeout_ms)


def cells(page):
    return page.locator(CELLS)


def replace_cell_source(page, index: int, source: str) -> None:
    """Select everything in the cell's editor and type the new source over it."""
    cells(page).nth(index).locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(source)
    page.keyboard.press("Escape")


def append_code_cell(page, source: str) -> int:
    """Insert a code cell below the last one (command mode, B) and type into it; returns its index."""
    count = cells(page).count()
    cells(page).nth(count - 1).locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    cells(page).nth(count).locator(".cm-content").click()
    page.keyboard.insert_text(source)
    page.keyboard.press("Escape")
    return count


def run_all(page, timeout_ms: int = 90_000) -> None:
    """Run > Run All Cells, then wait until every code cell shows an execution count."""
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    page.wait_for_function(_ALL_RAN, timeout=timeout_ms)


def output_of(page, index: int) -> str:
    area = cells(page).nth(index).locator(".jp-OutputArea")
    return area.inner_text() if area.count() else ""


def error_outputs(page) -> list[str]:
    """Tracebacks shown in the notebook (a failing assert in a test cell shows up here)."""
    errors = page.locator(f"{CELLS} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    return [errors.nth(i).inner_text() for i in range(errors.count())]


def save(page, timeout_ms: int = 20_000) -> None:
    """Ctrl+S, then wait until the notebook's tab no longer shows unsaved changes."""
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')",
                           timeout=timeout_ms)


def show_cell(page, index: int) -> None:
    """Scroll the cell (and its output) into view and close JupyterLab's news prompt, for a telling screenshot."""
    no_thanks = page.locator(".jp-Notification-Toast").get_by_role("button", name="No", exact=True)
    if no_thanks.count():
        no_thanks.first.click()
    cells(page).nth(index).locator(".jp-OutputArea").scroll_into_view_if_needed()
