"""Regression guard for the fixed cost every page pays: a page does not re-sign and re-send the session cookie when
nothing in the session changed (signed in, anonymous with a session, anonymous without one), the header needs no
CSRF token for the language switch (so anonymous pages create no session), the language links are safe against
open redirects, and a signed-in page costs exactly one SQL statement more than the same page anonymous (the user,
which carries the logout-everywhere check). Counts only; never times."""
from __future__ import annotations

import pytest

from lms.extensions import db
from lms.models import User
from tests.test_learning_queries_count import counted

pytestmark = pytest.mark.usefixtures("release_session")


def _set_cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def _ok(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response


def test_anonymous_page_without_cookie_creates_no_session(client, imported):
    imported()
    response = _ok(client, "/courses")
    assert _set_cookies(response) == []
    html = response.get_data(as_text=True)
    assert 'name="csrf_token"' not in html  # the language switch is links, not a form
    assert 'href="/locale/zh_Hant?next=/courses"' in html and 'aria-current="true">English' in html


def test_anonymous_session_is_not_resent_on_every_page(client, imported):
    imported()
    first = client.get("/locale/zh_Hans?next=/courses")
    assert first.status_code == 303 and first.headers["Location"] == "/courses"
    assert any(c.startswith("session=") for c in _set_cookies(first))
    for _ in range(2):  # flask-login's strong protection used to rewrite an anonymous session on every request
        response = _ok(client, "/courses")
        assert _set_cookies(response) == []
        assert '<html lang="zh-Hans">' in response.get_data(as_text=True)


def test_signed_in_page_is_not_resent_and_costs_one_statement(app, client, make_user, login, imported):
    imported()
    _ok(client, "/courses")
    app.config["PAGE_CACHE_ENABLED"] = False  # compare like with like: the anonymous page rendered, not cached
    try:
        with counted(app) as anonymous:
            _ok(client, "/courses")
    finally:
        app.config["PAGE_CACHE_ENABLED"] = True
    login(make_user())
    _ok(client, "/courses")
    with counted(app) as signed_in:
        response = _ok(client, "/courses")
    assert _set_cookies(response) == []
    html = response.get_data(as_text=True)
    assert 'name="csrf_token"' in html  # the logout form
    user_statements = [s for s in signed_in if "FROM users" in s and "WHERE users.id" in s]
    assert len(user_statements) == 1, signed_in
    # the signed-in catalog also reads the user's enrolments; the page frame adds only the user
    assert len(signed_in) - len(anonymous) <= 2, (anonymous, signed_in)


def test_strong_session_protection_still_applies(client, make_user, login):
    user = make_user()
    login(user)
    assert _ok(client, "/accounts/profile")
    client.environ_base["HTTP_USER_AGENT"] = "another browser/2"
    response = client.get("/accounts/profile")
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "https://evil.example/",
                                    "javascript:alert(1)", "/ok\r\nSet-Cookie: x=1", "courses", ""])
def test_language_link_refuses_foreign_next(client, target):
    response = client.get("/locale/zh_Hant", query_string={"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert response.headers["Cache-Control"] == "no-store"


def test_language_link_unknown_code_is_404(client):
    assert client.get("/locale/klingon?next=/").status_code == 404


def test_language_link_saves_signed_in_choice(app, client, make_user, login):
    user = make_user()
    login(user)
    response = client.get("/locale/zh_Hant", query_string={"next": "/accounts/profile?tab=1"})
    assert response.status_code == 303 and response.headers["Location"] == "/accounts/profile?tab=1"
    with app.app_context():
        assert db.session.get(User, user.id).locale == "zh_Hant"
        db.session.remove()


def test_language_form_post_still_works_with_csrf(client, csrf_token):
    token = csrf_token("/accounts/login")
    response = client.post("/locale", data={"locale": "zh_Hans", "next": "//evil.example", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.post("/locale", data={"locale": "zh_Hans"}).status_code == 400  # no token


def test_anonymous_enrol_button_leads_to_login_and_back(client, imported):
    imported()
    html = _ok(client, "/courses/alpha").get_data(as_text=True)
    assert 'action="/courses/alpha/enrol"' in html  # the course page offers the button (with its own CSRF token)
    from tests.fixtures.content import form_token

    response = client.post("/courses/alpha/enrol", data={"csrf_token": form_token(html)})
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]
    back = client.get("/courses/alpha/enrol")  # where login returns to: a GET, so it must not be a 405
    assert back.status_code == 303 and back.headers["Location"] == "/courses/alpha"
