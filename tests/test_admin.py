"""Admin pages: permissions, users and roles, activation, last-admin protection, audit log."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.models import AuditEvent, User
from tests.fixtures.users import DEFAULT_PASSWORD



@pytest.fixture
def admin_browser(make_user, post_form, new_client):
    """(admin user, a browser signed in as that admin)."""
    admin = make_user(role="admin", email="root@example.com", name="Root Admin")
    browser = new_client()
    assert post_form("/accounts/login", {"email": admin.email, "password": DEFAULT_PASSWORD},
                     c=browser).status_code == 302
    return admin, browser


def _stored(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.mark.parametrize("path", ["/admin/", "/admin/users", "/admin/audit"])
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/accounts/login")


@pytest.mark.parametrize("role", ["trainee", "instructor"])
def test_non_admins_get_403(make_user, post_form, new_client, role):
    user, victim = make_user(role=role), make_user()
    browser = new_client()
    post_form("/accounts/login", {"email": user.email, "password": DEFAULT_PASSWORD}, c=browser)
    assert browser.get("/admin/users").status_code == 403
    assert browser.get("/admin/audit").status_code == 403
    response = post_form(f"/admin/users/{victim.id}/role", {"role": "admin"}, page="/accounts/profile", c=browser)
    assert response.status_code == 403


def test_users_list_search_and_pagination(app, make_user, admin_browser):
    _admin, browser = admin_browser
    for n in range(30):
        make_user(email=f"trainee{n:02d}@example.com", name=f"Trainee {n:02d}")
    make_user(role="instructor", email="teacher@example.com", name="Ms Teacher")
    page = browser.get("/admin/users").get_data(as_text=True)
    assert "32 accounts found." in page and "Next page" in page
    assert "trainee29@example.com" in browser.get("/admin/users?page=2").get_data(as_text=True)
    found = browser.get("/admin/users?q=teacher").get_data(as_text=True)
    assert "1 account found." in found and "teacher@example.com" in found
    by_role = browser.get("/admin/users?role=instructor").get_data(as_text=True)
    assert "teacher@example.com" in by_role and "trainee01@" not in by_role
    assert "0 accounts found." in browser.get("/admin/users?q=%25").get_data(as_text=True)
    assert browser.get("/admin/users?page=999").status_code == 200


def test_change_role_is_audited(app, make_user, admin_browser, post_form):
    _admin, browser = admin_browser
    user = make_user()
    response = post_form(f"/admin/users/{user.id}/role", {"role": "instructor", "next": "/admin/users?q=user"},
                         page="/admin/users", c=browser)
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users?q=user"
    assert _stored(app, user.id).role == "instructor"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.role_changed"))
        assert event.detail == {"email": user.email, "old": "trainee", "new": "instructor"}
    assert "user.role_changed" in browser.get("/admin/audit").get_data(as_text=True)


def test_bad_role_unknown_user_and_missing_csrf(app, make_user, admin_browser, post_form):
    _admin, browser = admin_browser
    user = make_user()
    response = post_form(f"/admin/users/{user.id}/role", {"role": "overlord"}, page="/admin/users", c=browser)
    assert response.status_code == 400 and "Choose one of the listed roles" in response.get_data(as_text=True)
    assert post_form("/admin/users/424242/role", {"role": "admin"}, page="/admin/users",
                     c=browser).status_code == 404
    assert browser.post(f"/admin/users/{user.id}/role", data={"role": "admin"}).status_code == 400
    assert _stored(app, user.id).role == "trainee"


def test_last_admin_cannot_demote_or_deactivate_themselves(app, make_user, admin_browser, post_form):
    admin, browser = admin_browser
    response = post_form(f"/admin/users/{admin.id}/role", {"role": "trainee"}, page="/admin/users", c=browser)
    assert response.status_code == 409 and "last active administrator" in response.get_data(as_text=True)
    response = post_form(f"/admin/users/{admin.id}/deactivate", {}, page="/admin/users", c=browser)
    assert response.status_code == 400 and "cannot deactivate your own account" in response.get_data(as_text=True)
    stored = _stored(app, admin.id)
    assert stored.role == "admin" and stored.active
    # With a second admin, stepping down is allowed.
    make_user(role="admin")
    response = post_form(f"/admin/users/{admin.id}/role", {"role": "instructor"}, page="/admin/users", c=browser)
    assert response.status_code == 303 and _stored(app, admin.id).role == "instructor"
    assert browser.get("/admin/users").status_code == 403


def test_deactivate_signs_the_user_out_and_reactivate(app, make_user, admin_browser, post_form, new_client):
    _admin, browser = admin_browser
    user = make_user()
    theirs = new_client()
    post_form("/accounts/login", {"email": user.email, "password": DEFAULT_PASSWORD}, c=theirs)
    assert theirs.get("/accounts/profile").status_code == 200
    assert post_form(f"/admin/users/{user.id}/deactivate", {}, page="/admin/users", c=browser).status_code == 303
    assert not _stored(app, user.id).active
    assert theirs.get("/accounts/profile").status_code == 302
    login = post_form("/accounts/login", {"email": user.email, "password": DEFAULT_PASSWORD}, c=theirs)
    assert login.status_code == 400
    assert post_form(f"/admin/users/{user.id}/reactivate", {}, page="/admin/users", c=browser).status_code == 303
    assert post_form("/accounts/login", {"email": user.email, "password": DEFAULT_PASSWORD},
                     c=theirs).status_code == 302
    assert {"user.deactivated", "user.reactivated"} <= set(_actions(app))


def test_audit_log_filters_by_action(app, make_user, admin_browser, post_form, new_client):
    _admin, browser = admin_browser
    post_form("/accounts/login", {"email": "root@example.com", "password": "wrong password"}, c=new_client())
    everything = browser.get("/admin/audit").get_data(as_text=True)
    assert "login.success" in everything and "login.failure" in everything
    failures = browser.get("/admin/audit?action=login.failure").get_data(as_text=True)
    assert "<code>login.failure</code>" in failures and "<code>login.success</code>" not in failures
    assert "bad_credentials" in failures


def test_admin_sees_admin_navigation(admin_browser):
    _admin, browser = admin_browser
    assert 'href="/admin/users"' in browser.get("/accounts/profile").get_data(as_text=True)
