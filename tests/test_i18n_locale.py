"""Which language a page is in: the signed-in user's saved choice, else the visitor's choice in this session,
else the browser's Accept-Language, else English — and that every way of choosing is remembered where it should."""
from __future__ import annotations

import pytest

from lms.extensions import db
from lms.models import User
from tests.fixtures.users import DEFAULT_PASSWORD
from tests.test_i18n_pages import compiled_catalogues  # noqa: F401 - autouse fixture

HTML_LANG = {"en": '<html lang="en">', "zh_Hant": '<html lang="zh-Hant-HK">', "zh_Hans": '<html lang="zh-Hans">'}


def _page_locale(response) -> str:
    html = response.get_data(as_text=True)
    found = [code for code, tag in HTML_LANG.items() if tag in html]
    assert len(found) == 1, html[:300]
    return found[0]


def _stored_locale(app, user_id: int) -> str | None:
    with app.app_context():
        locale = db.session.get(User, user_id).locale
        db.session.remove()
        return locale


@pytest.mark.parametrize("header, expected", [
    ("zh-HK", "zh_Hant"), ("zh-TW", "zh_Hant"), ("zh-MO", "zh_Hant"), ("zh-Hant", "zh_Hant"),
    ("zh-Hant-HK", "zh_Hant"), ("zh-Hant-CN", "zh_Hant"),  # the script decides over the region
    ("zh-CN", "zh_Hans"), ("zh-SG", "zh_Hans"), ("zh-Hans-HK", "zh_Hans"), ("zh", "zh_Hans"),
    ("en-GB", "en"), ("en-US,zh-HK;q=0.5", "en"), ("fr-FR, zh-HK;q=0.8, en;q=0.5", "zh_Hant"),
    ("ja, fr", "en"), ("", "en"), ("zh-HK;q=0.4, zh-CN;q=0.9", "zh_Hans"),
])
def test_browser_language_picks_the_catalogue(client, header, expected):
    assert _page_locale(client.get("/accounts/login", headers={"Accept-Language": header})) == expected


def test_anonymous_choice_outlasts_the_browser_header_for_the_session(client, new_client):
    response = client.get("/locale/zh_Hans", query_string={"next": "/courses"})
    assert response.status_code == 303 and response.headers["Location"] == "/courses"
    for path in ("/courses", "/accounts/login", "/verify"):
        assert _page_locale(client.get(path, headers={"Accept-Language": "en"})) == "zh_Hans"
    assert _page_locale(new_client().get("/courses", headers={"Accept-Language": "en"})) == "en"  # per visitor


def test_signed_in_choice_is_saved_and_follows_the_user_to_another_browser(app, client, make_user, login,
                                                                           new_client, post_form):
    user = make_user()
    login(user)
    client.get("/locale/zh_Hant")
    assert _stored_locale(app, user.id) == "zh_Hant"
    other = new_client()
    post_form("/accounts/login", {"email": user.email, "password": DEFAULT_PASSWORD}, c=other)
    assert _page_locale(other.get("/dashboard", headers={"Accept-Language": "en-GB"})) == "zh_Hant"
    # the saved choice beats an older choice kept in that browser's session from before signing in
    stranger = new_client()
    stranger.get("/locale/zh_Hans")
    post_form("/accounts/login", {"email": user.email, "password": DEFAULT_PASSWORD}, c=stranger)
    assert _page_locale(stranger.get("/dashboard")) == "zh_Hant"


def test_language_chosen_before_registering_is_kept_on_the_new_account(app, client, post_form):
    client.get("/locale/zh_Hant")
    response = post_form("/accounts/register", {"name": "陳小明", "email": "siuming@example.test",
                                                "password": DEFAULT_PASSWORD, "confirm": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with app.app_context():
        user = db.session.query(User).filter_by(email="siuming@example.test").one()
        assert user.locale == "zh_Hant"
        db.session.remove()
    assert "歡迎來到 NI Academy" in client.get(response.headers["Location"], follow_redirects=True).get_data(True)


def test_registering_from_the_browser_language_saves_no_choice(app, client, post_form):
    response = post_form("/accounts/register", {"name": "Lee", "email": "lee@example.test",
                                                "password": DEFAULT_PASSWORD, "confirm": DEFAULT_PASSWORD})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.query(User).filter_by(email="lee@example.test").one().locale is None
        db.session.remove()


def test_profile_choice_wins_and_same_as_browser_hands_back_to_the_browser(app, client, make_user, login,
                                                                           post_form):
    user = make_user()
    login(user)
    client.get("/locale/zh_Hans")  # a header-link choice, saved and in the session
    response = post_form("/accounts/profile", {"name": user.name, "locale": "zh_Hant"})
    assert response.status_code == 302 and _stored_locale(app, user.id) == "zh_Hant"
    page = client.get("/accounts/profile", headers={"Accept-Language": "en"})
    assert _page_locale(page) == "zh_Hant" and "你的個人資料已儲存。" in page.get_data(as_text=True)  # flash too

    post_form("/accounts/profile", {"name": user.name, "locale": ""})
    assert _stored_locale(app, user.id) is None
    assert _page_locale(client.get("/accounts/profile", headers={"Accept-Language": "zh-CN"})) == "zh_Hans"
    assert _page_locale(client.get("/accounts/profile", headers={"Accept-Language": "en"})) == "en"


def test_logging_out_keeps_the_language_for_the_rest_of_the_visit(client, make_user, login, post_form):
    user = make_user()
    login(user)
    client.get("/locale/zh_Hant")
    page = client.get("/dashboard").get_data(as_text=True)
    from tests.fixtures.content import form_token

    response = client.post("/accounts/logout", data={"csrf_token": form_token(page)}, follow_redirects=True)
    assert _page_locale(response) == "zh_Hant" and "你已登出。" in response.get_data(as_text=True)


def test_unknown_or_malformed_choices_change_nothing(app, client, make_user, login):
    user = make_user()
    login(user)
    client.get("/locale/zh_Hant")
    for code in ("fr", "zh", "zh-Hant", "ZH_HANT", "en_US", "../en"):
        assert client.get(f"/locale/{code}").status_code == 404
    assert _stored_locale(app, user.id) == "zh_Hant"
    with app.app_context():
        db.session.get(User, user.id).locale = "klingon"  # a stale value (a language since removed)
        db.session.commit()
        db.session.remove()
    assert _page_locale(client.get("/dashboard", headers={"Accept-Language": "zh-CN"})) == "zh_Hant"  # session


def test_language_links_lead_back_to_the_same_page_in_the_chosen_language(client):
    html = client.get("/verify?id=abc", headers={"Accept-Language": "zh-HK"}).get_data(as_text=True)
    links = {code: f'href="/locale/{code}?next=' in html for code in ("en", "zh_Hant", "zh_Hans")}
    assert links == {"en": True, "zh_Hant": True, "zh_Hans": True}
    response = client.get("/locale/zh_Hans", query_string={"next": "/verify?id=abc"})
    assert response.headers["Location"] == "/verify?id=abc"
    assert _page_locale(client.get(response.headers["Location"])) == "zh_Hans"
