"""Login throttling per account, per (account, IP) and per IP — and the classroom behind one NAT."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from lms.extensions import db
from lms.models import AuditEvent, ThrottleEvent
from tests.fixtures.users import DEFAULT_PASSWORD


CLASSROOM_NAT = "203.0.113.7"


def _audit_count(app, action: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


def _attempt(post_form, browser, email: str, password: str):
    return post_form("/accounts/login", {"email": email, "password": password}, c=browser)


def test_forty_trainees_behind_one_nat_all_get_in(app, make_user, post_form, new_client):
    trainees = [make_user() for _ in range(40)]
    for trainee in trainees:
        browser = new_client(REMOTE_ADDR=CLASSROOM_NAT)
        for typo in ("wrong password 1", "wrong password 2"):
            assert _attempt(post_form, browser, trainee.email, typo).status_code == 400
        assert _attempt(post_form, browser, trainee.email, DEFAULT_PASSWORD).status_code == 302, trainee.email
        assert browser.get("/accounts/profile").status_code == 200
    assert _audit_count(app, "login.failure") == 80
    assert _audit_count(app, "login.success") == 40
    assert _audit_count(app, "login.blocked") == 0


def test_six_wrong_passwords_block_the_account_even_with_the_right_one(app, make_user, post_form, new_client):
    victim, bystander = make_user(), make_user()
    attacker = new_client(REMOTE_ADDR="198.51.100.9")
    for _ in range(5):
        assert _attempt(post_form, attacker, victim.email, "guess guess guess").status_code == 400
    blocked = _attempt(post_form, attacker, victim.email, DEFAULT_PASSWORD)
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in blocked.get_data(as_text=True)
    assert 0 < int(blocked.headers["Retry-After"]) <= app.config["LOGIN_WINDOW_SECONDS"] + 1
    # The account is blocked from everywhere; other accounts are not.
    elsewhere = new_client(REMOTE_ADDR="192.0.2.44")
    assert _attempt(post_form, elsewhere, victim.email, DEFAULT_PASSWORD).status_code == 429
    assert _attempt(post_form, elsewhere, bystander.email, DEFAULT_PASSWORD).status_code == 302
    assert _audit_count(app, "login.blocked") == 2
    # Once the window has passed, the right password works again.
    with app.app_context():
        window = timedelta(seconds=app.config["LOGIN_WINDOW_SECONDS"] + 1)
        for event in db.session.scalars(select(ThrottleEvent)):
            event.at -= window
        db.session.commit()
    assert _attempt(post_form, new_client(), victim.email, DEFAULT_PASSWORD).status_code == 302


def test_success_clears_that_accounts_failures_from_that_address(make_user, post_form, new_client):
    user = make_user()
    browser = new_client(REMOTE_ADDR="10.1.2.3")
    for _round in range(2):
        for _ in range(4):
            assert _attempt(post_form, browser, user.email, "fat fingers!").status_code == 400
        assert _attempt(post_form, browser, user.email, DEFAULT_PASSWORD).status_code == 302
        post_form("/accounts/logout", {}, page="/accounts/profile", c=browser)


def test_per_ip_limit_blocks_the_address_not_the_accounts(app, make_user, post_form, new_client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_IP", 3)
    users = [make_user() for _ in range(4)]
    sprayer = new_client(REMOTE_ADDR="198.51.100.66")
    for user in users[:3]:
        assert _attempt(post_form, sprayer, user.email, "Password123!").status_code == 400
    assert _attempt(post_form, sprayer, users[3].email, DEFAULT_PASSWORD).status_code == 429
    assert _attempt(post_form, new_client(), users[3].email, DEFAULT_PASSWORD).status_code == 302


def test_unknown_accounts_are_throttled_like_known_ones(post_form, new_client):
    browser = new_client(REMOTE_ADDR="198.51.100.77")
    statuses = [_attempt(post_form, browser, "ghost@example.com", "whatever!!").status_code for _ in range(6)]
    assert statuses == [400] * 5 + [429]


def test_reset_requests_are_throttled_without_revealing_accounts(app, make_user, post_form, new_client, mailbox):
    user = make_user()
    browser = new_client(REMOTE_ADDR="10.9.9.9")
    for email in (user.email, "ghost@example.com"):
        statuses = [post_form("/accounts/reset", {"email": email}, c=browser).status_code for _ in range(4)]
        assert statuses == [302, 302, 302, 429]
    assert len(mailbox()) == 3
    assert _audit_count(app, "password.reset_blocked") == 2
