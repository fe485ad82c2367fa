"""A trainee completes the whole journey with the keyboard alone — register, enrol, read and mark every lesson,
take and pass the quiz, see the progress on the dashboard, open the certificate and its public verification —
and every focus stop on the way is on screen with a visible, contrasting focus ring.

Keys: Tab / Shift+Tab to move, Enter to follow links and submit, Space to press buttons and tick boxes, typing
into text fields, and the arrow keys inside a radio group (the only way a keyboard picks one radio of a group:
the group is a single Tab stop, as in every browser)."""
from __future__ import annotations

import itertools
import re

import pytest

from tests.a11y.keyboard import KeyboardUser, element_id, href_is, href_starts, submits_to
from tests.a11y.site import JOURNEY_COURSE, PASSWORD

pytestmark = pytest.mark.slow
COURSE_URL = f"/courses/{JOURNEY_COURSE}"
_numbers = itertools.count(1)


def _answer_quiz(user: KeyboardUser, site) -> int:
    """Answer each drawn question correctly (the test knows the key), in page order."""
    ids = user.page.eval_on_selector_all("fieldset.quiz-question input",
                                         "els => [...new Set(els.map(e => e.name))]")
    for name in ids:
        kind, answer = site.question(int(name.removeprefix("q-")))
        if kind == "single":
            user.tab_to(element_id(f"{name}-0"), f"first option of {name}")
            user.press("Space")
            for _ in range(int(answer)):
                user.press("ArrowDown")
            assert user.page.is_checked(f"#{name}-{int(answer)}")
        elif kind == "multiple":
            for index in sorted(answer):
                user.tab_to(element_id(f"{name}-{index}"), f"option {index} of {name}")
                user.press("Space")
                assert user.page.is_checked(f"#{name}-{index}")
        else:
            user.tab_to(element_id(name), f"answer field {name}")
            user.type(str(answer[0] if isinstance(answer, list) else answer))
    return len(ids)


def _continue_link(page) -> str | None:
    link = page.locator(f"main a.button[href^='{COURSE_URL}/lessons/']")
    return link.first.get_attribute("href") if link.count() else None


def _read_lessons(user: KeyboardUser) -> None:
    """From the course page: Continue learning, then on each lesson Mark as done and follow the next-lesson link;
    back to the course page at the end of the unlocked lessons."""
    page = user.page
    user.tab_to(href_is(_continue_link(page)), "continue-learning button")
    user.activate()
    for _ in range(50):
        lesson = page.url.rsplit("/", 1)[1]
        if page.locator(f"main form[action$='/lessons/{lesson}/done']").count():
            user.tab_to(submits_to(f"/lessons/{lesson}/done"), f"mark-done button of {lesson}")
            user.activate("Space")
            assert page.locator("main .card .badge.ok").count() >= 1, f"{lesson} not shown as done"
        if not page.locator("main a[rel=next]").count():
            break
        user.tab_to(lambda i: i["rel"] == "next", "next-lesson link")
        user.activate()
        if page.locator("main .error-page").count():  # a module still locked: its page links back to the course
            break
    user.tab_to(href_is(COURSE_URL), "back-to-course link")
    user.activate()


def _quiz_to_pass(page) -> str | None:
    """The first quiz on the course page that is open to the trainee (a link) and not passed yet."""
    items = page.locator("main li:has(a[href^='/quizzes/']):not(:has(.badge.ok)) a[href^='/quizzes/']")
    return items.first.get_attribute("href") if items.count() else None


def _pass_quiz(user: KeyboardUser, site, quiz_url: str) -> None:
    page = user.page
    user.tab_to(href_is(quiz_url), "quiz link")
    user.activate()
    user.tab_to(lambda i: i["tag"] == "button" and (i["formAction"] or "").endswith("/start"), "start button")
    user.activate()
    assert "/quizzes/attempts/" in page.url, page.url
    assert _answer_quiz(user, site) >= 1
    user.tab_to(lambda i: i["tag"] == "button" and "/quizzes/attempts/" in (i["formAction"] or ""), "submit")
    user.activate()
    assert page.url.endswith("/result"), page.url
    assert page.locator("section[aria-labelledby=summary] .badge.ok").count() == 1, "the quiz was not passed"
    # Back to the course through the header's Courses link (Shift+Tab), then the course link.
    user.tab_to(lambda i: not i["inMain"] and i["href"] == "/courses", "courses link", backwards=True)
    user.activate()
    user.tab_to(href_is(COURSE_URL), "course link")
    user.activate()


@pytest.mark.parametrize("locale", ["en", "zh_Hant"])
def test_trainee_journey_with_keyboard_only(locale, fresh_page, live_site):
    page = fresh_page
    user = KeyboardUser(page)
    page.goto(live_site.url("/"))
    # The first Tab reaches the skip link, which becomes visible when focused.
    assert user.press("Tab")["href"] == "#main"
    if locale != "en":
        user.tab_to(href_starts(f"/locale/{locale}"), "language link")
        user.activate()
        assert page.evaluate("document.documentElement.lang") == "zh-Hant-HK"
        assert user.press("Tab")["href"] == "#main"
    user.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main", "the skip link must move focus to <main>"

    # Register.
    user.tab_to(href_is("/accounts/register"), "create-account link")
    user.activate()
    email = f"keyboard{next(_numbers)}-{locale}@a11y.example.test"
    for field, text in (("name", "Ho Ka Ming"), ("email", email), ("password", PASSWORD), ("confirm", PASSWORD)):
        user.tab_to(element_id(field), f"{field} field")
        user.type(text)
    user.tab_to(lambda i: i["tag"] == "button" and i["inMain"], "create-account button")
    user.activate()
    assert page.url.endswith("/dashboard"), f"registration did not sign in: {page.url}"

    # Enrol.
    user.tab_to(lambda i: i["inMain"] and i["href"] == "/courses", "browse-courses link")
    user.activate()
    user.tab_to(href_is(COURSE_URL), "course link")
    user.activate()
    user.tab_to(submits_to(f"{COURSE_URL}/enrol"), "enrol button")
    user.activate("Space")

    # Read and mark every lesson, then take and pass each quiz, until the course page says it is complete.
    for _round in range(10):
        if _continue_link(page):
            _read_lessons(user)
        elif (quiz := _quiz_to_pass(page)) is not None:
            _pass_quiz(user, live_site, quiz)
        else:
            break
    assert page.locator("section[aria-labelledby=enrol-heading] .badge.ok").count() == 1, "course not completed"

    # The dashboard shows the progress (reached backwards through the header navigation).
    user.tab_to(href_is("/dashboard"), "dashboard link", backwards=True)
    user.activate()
    bar = page.get_by_role("progressbar")
    assert bar.count() == 1 and bar.evaluate("e => e.value") == 100
    assert "100" in page.locator("main .progress-text").inner_text()
    assert page.locator("main tbody .badge.ok").count() == 1, "course not shown as completed"

    # The certificate, and its public verification page.
    user.tab_to(href_is("/certificates/"), "certificates link", backwards=True)
    user.activate()
    assert page.locator("main article.certificate").count() == 1, "no certificate after completing the course"
    user.tab_to(lambda i: i["inMain"] and "/verify" in (i["href"] or ""), "verification link")
    user.activate()
    assert page.locator(".verify-result.valid").count() == 1, "the certificate does not verify"
