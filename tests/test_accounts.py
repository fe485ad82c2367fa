"""Register, log in/out, password reset by mail, profile and password change — through HTTP."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import AuditEvent, User
from lms.signals import user_logged_out
from tests.fixtures.accounts import reset_link_from
from tests.fixtures.users import DEFAULT_PASSWORD


NEW_PASSWORD = "a brand new passphrase"


def _count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


def _user(app, email: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge(user)
        return user


def _register(post_form, **overrides):
    data = {"name": "Mei Chan", "email": "Mei.Chan@Example.com", "password": "long enough pw",
            "confirm": "long enough pw", **overrides}
    return post_form("/accounts/register", data)


def test_register_creates_logged_in_trainee_with_normalised_email(app, client, post_form):
    response = _register(post_form)
    assert response.status_code == 302
    user = _user(app, "mei.chan@example.com")
    assert user.role == "trainee" and user.name == "Mei Chan"
    assert user.password_hash.startswith("$argon2id$")
    assert client.get("/accounts/profile").status_code == 200


@pytest.mark.parametrize("overrides, field, message", [
    ({"email": "not-an-email"}, "email", "valid email"),
    ({"password": "short", "confirm": "short"}, "password", "at least 10"),
    ({"confirm": "something else"}, "confirm", "do not match"),
    ({"name": ""}, "name", "required"),
])
def test_register_bad_input_shows_field_error_and_creates_nothing(app, post_form, overrides, field, message):
    response = _register(post_form, **overrides)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html
    assert _count_users(app) == 0


def test_register_duplicate_email_is_a_field_error(app, make_user, post_form):
    make_user(email="mei.chan@example.com")
    response = _register(post_form)  # same address, different case
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    assert _count_users(app) == 1


def test_register_cannot_choose_a_role(app, post_form):
    _register(post_form, role="admin")
    assert _user(app, "mei.chan@example.com").role == "trainee"


def test_form_without_csrf_is_refused(app, client):
    response = client.post("/accounts/register", data={"name": "X", "email": "x@example.com",
                                                       "password": "long enough pw", "confirm": "long enough pw"})
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    assert _count_users(app) == 0


def test_login_then_logout_sends_signal(app, client, make_user, login, post_form):
    user = make_user()
    response = login(user)
    assert response.headers["Location"] == "/"
    received = []

    def _listener(sender, **kwargs):
        received.append(kwargs)

    with user_logged_out.connected_to(_listener, app):
        assert client.get("/accounts/logout").status_code == 405  # POST only
        response = post_form("/accounts/logout", {}, page="/accounts/profile")
    assert response.status_code == 302
    assert received == [{"user_id": user.id}]
    assert client.get("/accounts/profile").status_code == 302  # back to the login page


def test_logout_without_csrf_is_refused(client, make_user, login):
    login(make_user())
    assert client.post("/accounts/logout").status_code == 400
    assert client.get("/accounts/profile").status_code == 200


def test_login_redirects_to_safe_next_only(client, make_user, post_form):
    user = make_user()
    data = {"email": user.email.upper(), "password": DEFAULT_PASSWORD}
    response = post_form("/accounts/login?next=/accounts/profile", data)
    assert response.headers["Location"] == "/accounts/profile"
    post_form("/accounts/logout", {}, page="/accounts/profile")
    response = post_form("/accounts/login?next=//evil.example/x", data)
    assert response.headers["Location"] == "/"


def test_wrong_password_shows_form_again_and_is_audited(app, make_user, post_form):
    user = make_user()
    response = post_form("/accounts/login", {"email": user.email, "password": "wrong password"})
    assert response.status_code == 400
    assert "Wrong email or password" in response.get_data(as_text=True)
    response = post_form("/accounts/login", {"email": "", "password": ""})
    assert response.status_code == 400 and 'id="email-error"' in response.get_data(as_text=True)
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions == ["login.failure"]


def test_deactivated_account_cannot_log_in(app, make_user, post_form):
    user = make_user()
    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()
    response = post_form("/accounts/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert "deactivated" in response.get_data(as_text=True)


def test_anonymous_profile_redirects_to_login(client):
    response = client.get("/accounts/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login?next=")


def test_password_reset_round_trip(app, client, make_user, post_form, mailbox):
    user = make_user()
    response = post_form("/accounts/reset", {"email": user.email.upper()})
    assert response.status_code == 302
    messages = mailbox()
    assert len(messages) == 1 and messages[0]["To"] == user.email
    assert "Reset your NI Academy password" in messages[0]["Subject"]
    assert messages[0].get_body(("html",)) is not None
    link = reset_link_from(messages[0])
    assert client.get(link).status_code == 200
    response = post_form(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    # Used once: the link no longer works; old password refused, new one accepted.
    assert client.get(link).status_code == 400
    bad = post_form("/accounts/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert bad.status_code == 400
    good = post_form("/accounts/login", {"email": user.email, "password": NEW_PASSWORD})
    assert good.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "password.reset")) == 1


def test_reset_answer_is_the_same_for_unknown_accounts(make_user, post_form, mailbox):
    user = make_user()
    known = post_form("/accounts/reset", {"email": user.email}, follow_redirects=True)
    unknown = post_form("/accounts/reset", {"email": "nobody@example.com"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    message = "If an account exists for that address"
    assert message in known.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert len(mailbox()) == 1


def test_reset_link_stops_working_after_password_change_or_expiry(app, client, make_user, login, post_form,
                                                                  mailbox, monkeypatch):
    user = make_user()
    post_form("/accounts/reset", {"email": user.email})
    link = reset_link_from(mailbox()[0])
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", -1)
    assert client.get(link).status_code == 400  # expired
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", 3600)
    assert client.get(link).status_code == 200
    assert client.get(link + "x").status_code == 400  # tampered
    login(user)
    post_form("/accounts/profile/password", {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD,
                                             "confirm_password": NEW_PASSWORD}, page="/accounts/profile")
    response = post_form(link, {"password": "yet another password", "confirm": "yet another password"},
                         page="/accounts/profile")
    assert response.status_code == 400


def test_reset_form_rejects_short_password(make_user, client, post_form, mailbox):
    user = make_user()
    post_form("/accounts/reset", {"email": user.email})
    link = reset_link_from(mailbox()[0])
    response = post_form(link, {"password": "short", "confirm": "short"})
    assert response.status_code == 400 and 'id="password-error"' in response.get_data(as_text=True)
    assert client.get(link).status_code == 200  # still usable


def test_profile_update_name_and_locale(app, client, make_user, login, post_form):
    user = make_user()
    login(user)
    response = post_form("/accounts/profile", {"name": "Wong Ka Ming", "locale": "zh_Hant"})
    assert response.status_code == 302
    stored = _user(app, user.email)
    assert (stored.name, stored.locale) == ("Wong Ka Ming", "zh_Hant")
    response = post_form("/accounts/profile", {"name": "X", "locale": "klingon"})
    assert response.status_code == 400
    assert _user(app, user.email).locale == "zh_Hant"


def test_password_change_ends_other_sessions(app, make_user, post_form, new_client):
    user = make_user()
    mine, other = new_client(), new_client()
    for browser in (mine, other):
        post_form("/accounts/login", {"email": user.email, "password": DEFAULT_PASSWORD}, c=browser)
        assert browser.get("/accounts/profile").status_code == 200
    response = post_form("/accounts/profile/password", {"current_password": DEFAULT_PASSWORD,
                                                        "new_password": NEW_PASSWORD,
                                                        "confirm_password": NEW_PASSWORD}, c=mine)
    assert response.status_code == 302
    assert mine.get("/accounts/profile").status_code == 200  # this session continues
    assert other.get("/accounts/profile").status_code == 302  # the other one is signed out
    assert _user(app, user.email).session_version == 2


def test_password_change_needs_current_password(app, client, make_user, login, post_form):
    user = make_user()
    login(user)
    response = post_form("/accounts/profile/password", {"current_password": "not my password",
                                                        "new_password": NEW_PASSWORD,
                                                        "confirm_password": NEW_PASSWORD})
    assert response.status_code == 400
    assert "current password is not correct" in response.get_data(as_text=True)
    assert _user(app, user.email).session_version == 1


def test_rehash_on_login_when_parameters_change(app, make_user, post_form):
    from argon2 import PasswordHasher

    user = make_user()
    with app.app_context():
        stored = db.session.get(User, user.id)
        stored.password_hash = PasswordHasher(time_cost=2, memory_cost=4096, parallelism=1).hash(DEFAULT_PASSWORD)
        db.session.commit()
    assert post_form("/accounts/login", {"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 302
    assert "t=1" in _user(app, user.email).password_hash  # upgraded to the current parameters


def test_pages_render_with_navigation(client, make_user, login):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/accounts/register"' in html
    for page in ("/accounts/login", "/accounts/register", "/accounts/reset"):
        assert client.get(page).status_code == 200
    login(make_user())
    html = client.get("/accounts/profile").get_data(as_text=True)
    assert 'href="/accounts/profile"' in html and 'href="/admin/users"' not in html


def test_reset_mail_is_rendered_in_the_users_language(app, make_user, post_form, mailbox):
    user = make_user()
    with app.app_context():
        db.session.get(User, user.id).locale = "zh_Hant"
        db.session.commit()
    post_form("/accounts/reset", {"email": user.email})
    html = mailbox()[0].get_body(("html",)).get_content()
    assert '<html lang="zh-Hant-HK">' in html  # rendered under the user's locale, not the browser's
