"""WCAG 2.1 AA on every kind of page (tests/a11y/pages.py) and every lesson, in English and Traditional Chinese:
axe-core with the WCAG 2.0/2.1 A and AA rules and its best practices must find zero violations."""
from __future__ import annotations

import pytest
import yaml

from tests.a11y.axe import describe, run_axe, save_failure
from tests.a11y.conftest import ARTIFACTS
from tests.a11y.pages import LOCALES, PAGES, PageKind, open_page
from tests.a11y.site import course_dirs

pytestmark = pytest.mark.slow


def _assert_no_violations(page, name: str, axe_source: str) -> None:
    violations = run_axe(page, axe_source)
    if violations:
        shot = save_failure(page, ARTIFACTS, name, violations)
        pytest.fail(f"{len(violations)} axe violation(s) (WCAG 2.1 A/AA, best practice) on {name} ({page.url}); "
                    f"screenshot {shot}\n{describe(violations)}", pytrace=False)


@pytest.mark.parametrize("locale", list(LOCALES))
@pytest.mark.parametrize("kind", PAGES, ids=[p.name for p in PAGES])
def test_page_has_no_wcag_violations(kind, locale, axe_source, role_pages, live_site):
    _assert_no_violations(open_page(kind, locale, role_pages, live_site), f"{kind.name}-{locale}", axe_source)


def _lessons() -> list[tuple[str, str, str]]:
    """(course, lesson, locale) for every lesson of every course in courses/, plus each lesson translation."""
    found = []
    for course_dir in course_dirs():
        spec = yaml.safe_load((course_dir / "course.yaml").read_text(encoding="utf-8"))
        for module in spec.get("modules") or []:
            for lesson in module.get("lessons") or []:
                found.append((course_dir.name, lesson, "en"))
                if (course_dir / "lessons" / f"{lesson}.zh_Hant.md").is_file():
                    found.append((course_dir.name, lesson, "zh_Hant"))
    return found


@pytest.mark.parametrize("course, lesson, locale", _lessons())
def test_every_lesson_has_no_wcag_violations(course, lesson, locale, axe_source, role_pages, live_site):
    """Course content is authored by many hands (diagrams, tables, code): each lesson as staff read it."""
    kind = PageKind(f"lesson-{course}-{lesson}", "instructor", f"/courses/{course}/lessons/{lesson}")
    _assert_no_violations(open_page(kind, locale, role_pages, live_site), f"{kind.name}-{locale}", axe_source)
