"""The shared-page cache (lms/core/page_cache.py) through HTTP: public pages are cached only for visitors without a
session, by locale, and replaced when content is re-imported; signed-in pages rendered from a shared copy carry each
visitor's own name, CSRF token, progress and URL, never another visitor's."""
from __future__ import annotations

import re

import pytest

from lms.config import ConfigError, load_config
from tests.fixtures.content import form_token
from tests.fixtures.users import DEFAULT_PASSWORD

pytestmark = pytest.mark.usefixtures("release_session")


def _browser(app, user=None):
    browser = app.test_client()
    if user is not None:
        page = browser.get("/accounts/login").get_data(as_text=True)
        response = browser.post("/accounts/login", data={"email": user.email, "password": DEFAULT_PASSWORD,
                                                         "csrf_token": form_token(page)})
        assert response.status_code in (302, 303), response.status_code
    return browser


def _html(browser, path, **kwargs) -> str:
    response = browser.get(path, **kwargs)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def _enrol(browser) -> None:
    token = form_token(_html(browser, "/courses/alpha"))
    assert browser.post("/courses/alpha/enrol", data={"csrf_token": token}).status_code == 302


def test_public_page_follows_a_reimport(app, imported, course_tree):
    imported()
    anonymous = _browser(app)
    assert "Alpha course" in _html(anonymous, "/courses")
    course_tree.edit("alpha", "course.yaml", "title: Alpha course", "title: Renamed alpha")
    imported()
    assert "Renamed alpha" in _html(anonymous, "/courses")
    assert "Renamed alpha" in _html(anonymous, "/api/v1/courses")


def test_public_pages_are_kept_per_language_and_say_so(app, imported):
    imported()
    anonymous = _browser(app)
    english = anonymous.get("/courses", headers={"Accept-Language": "en"})
    chinese = anonymous.get("/courses", headers={"Accept-Language": "zh-HK"})
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert '<html lang="zh-Hant-HK">' in chinese.get_data(as_text=True)
    assert "阿爾法課程" in chinese.get_data(as_text=True)
    assert {"Accept-Language", "Cookie"} <= set(english.vary)


def test_signed_in_visitor_never_gets_the_anonymous_copy_and_back(app, imported, make_user):
    imported()
    anonymous = _browser(app)
    _html(anonymous, "/courses")  # cached for visitors without a session
    trainee = make_user(name="Mei Ling Chan")
    signed_in = _browser(app, trainee)
    _enrol(signed_in)
    personal = _html(signed_in, "/courses")
    assert "Mei Ling Chan" in personal and "Enrolled" in personal
    public = _html(_browser(app), "/courses")
    assert "Mei Ling Chan" not in public and "Enrolled" not in public and 'name="csrf_token"' not in public


def test_lesson_pages_from_one_shared_copy_stay_personal(app, imported, make_user):
    imported()
    first = make_user(name="Ada <b>Lovelace</b>")
    second = make_user(name="Grace Hopper")
    ada, grace = _browser(app, first), _browser(app, second)
    for browser in (ada, grace):
        _enrol(browser)
    page = _html(ada, "/courses/alpha/lessons/first")
    token = form_token(page)
    assert ada.post("/courses/alpha/lessons/first/done", data={"csrf_token": token}).status_code == 302
    assert "Lesson marked as done." in _html(ada, "/courses/alpha/lessons/first")  # flashed: not from the copy
    ada_page = _html(ada, "/courses/alpha/lessons/first?from=dashboard")
    grace_page = _html(grace, "/courses/alpha/lessons/first")
    again = _html(grace, "/courses/alpha/lessons/first")
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt;" in ada_page and "Grace" not in ada_page
    assert "Grace Hopper" in grace_page and "Lovelace" not in grace_page
    assert "You have completed this lesson." in ada_page and "Mark as done" not in ada_page
    assert "Mark as done" in grace_page and "You have completed this lesson." not in grace_page
    assert "niahole" not in ada_page + grace_page
    assert form_token(grace_page) == form_token(again) != form_token(ada_page)
    assert 'next=/courses/alpha/lessons/first%3Ffrom%3Ddashboard' in ada_page
    assert re.search(r'next=/courses/alpha/lessons/first"', grace_page)
    # the token filled in is one the server accepts for this visitor
    assert grace.post("/courses/alpha/lessons/first/done",
                      data={"csrf_token": form_token(grace_page)}).status_code == 302


@pytest.mark.parametrize("value, message", [("-1", "0 or more"), ("soon", "must be a number")])
def test_bad_check_interval_is_refused_at_start(value, message):
    with pytest.raises(ConfigError, match=message):
        load_config(environ={"NIA_ENV": "testing", "NIA_PAGE_CACHE_CHECK_SECONDS": value})
