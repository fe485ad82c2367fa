"""Personal access tokens: created in the profile page, shown once, hashed at rest, revocable."""
from __future__ import annotations

import hashlib
import re

from sqlalchemy import select

from lms.accounts.tokens import authenticate_token
from lms.extensions import db
from lms.models import ApiToken, AuditEvent, User



def _create(post_form, name: str):
    return post_form("/accounts/profile/tokens", {"token_name": name}, page="/accounts/profile")


def _raw_token(html: str) -> str:
    match = re.search(r'id="new-token" readonly value="(nia_[A-Za-z0-9_-]+)"', html)
    assert match, html
    return match.group(1)


def test_create_shows_token_once_and_stores_only_its_hash(app, client, make_user, login, post_form):
    user = make_user()
    login(user)
    response = _create(post_form, "lab notebook")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    raw = _raw_token(response.get_data(as_text=True))
    assert len(raw) == len("nia_") + 43
    with app.app_context():
        token = db.session.scalar(select(ApiToken))
        assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert raw.startswith(token.prefix) and len(token.prefix) < 16
        assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "token.created"))
    listing = client.get("/accounts/profile").get_data(as_text=True)
    assert "lab notebook" in listing and raw not in listing and token.prefix in listing


def test_authenticate_token_and_revoke(app, client, make_user, login, post_form):
    user = make_user()
    login(user)
    raw = _raw_token(_create(post_form, "script").get_data(as_text=True))
    with app.app_context():
        assert authenticate_token(raw).id == user.id
        assert db.session.scalar(select(ApiToken.last_used_at)) is not None
        assert authenticate_token(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
        assert authenticate_token("not-a-token") is None and authenticate_token("") is None
        token_id = db.session.scalar(select(ApiToken.id))
    response = post_form(f"/accounts/profile/tokens/{token_id}/revoke", {}, page="/accounts/profile")
    assert response.status_code == 302
    assert "revoked" in client.get("/accounts/profile").get_data(as_text=True)
    with app.app_context():
        assert authenticate_token(raw) is None


def test_token_of_deactivated_user_is_refused(app, make_user, login, post_form):
    user = make_user()
    login(user)
    raw = _raw_token(_create(post_form, "script").get_data(as_text=True))
    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()
        assert authenticate_token(raw) is None


def test_cannot_revoke_someone_elses_token(app, make_user, post_form, new_client):
    owner, intruder = make_user(), make_user()
    mine, theirs = new_client(), new_client()
    for browser, user in ((mine, owner), (theirs, intruder)):
        post_form("/accounts/login", {"email": user.email, "password": "correct horse battery staple"}, c=browser)
    post_form("/accounts/profile/tokens", {"token_name": "mine"}, page="/accounts/profile", c=mine)
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    response = post_form(f"/accounts/profile/tokens/{token_id}/revoke", {}, page="/accounts/profile", c=theirs)
    assert response.status_code == 404
    assert post_form("/accounts/profile/tokens/999999/revoke", {}, page="/accounts/profile",
                     c=mine).status_code == 404
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None


def test_token_needs_a_name_and_csrf(app, client, make_user, login, post_form):
    login(make_user())
    response = _create(post_form, "   ")
    assert response.status_code == 400 and 'id="token_name-error"' in response.get_data(as_text=True)
    assert client.post("/accounts/profile/tokens", data={"token_name": "x"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(ApiToken)) is None
