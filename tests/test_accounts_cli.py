"""`flask users create|list` through the Flask CLI runner."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.accounts.operations import verify_password
from lms.extensions import db
from lms.models import AuditEvent, User



def _users(app) -> list[User]:
    with app.app_context():
        users = list(db.session.scalars(select(User).order_by(User.id)))
        for user in users:
            db.session.expunge(user)
        return users


def test_create_admin_then_list(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--email", "Boss@Example.com", "--password",
                                 "a long admin pass", "--role", "admin", "--name", "Chief Admin"])
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.com" in result.output
    [user] = _users(app)
    assert (user.email, user.role, user.name) == ("boss@example.com", "admin", "Chief Admin")
    with app.app_context():
        assert verify_password(user.password_hash, "a long admin pass")
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "user.created")) == 1
    listing = runner.invoke(args=["users", "list"])
    assert listing.exit_code == 0 and "boss@example.com" in listing.output and "admin" in listing.output


def test_created_user_can_log_in(app, post_form):
    app.test_cli_runner().invoke(args=["users", "create", "--email", "teach@example.com", "--password",
                                       "instructor pass", "--role", "instructor"])
    response = post_form("/accounts/login", {"email": "teach@example.com", "password": "instructor pass"})
    assert response.status_code == 302


@pytest.mark.parametrize("args, message", [
    (["--email", "x@example.com", "--password", "short", "--role", "trainee"], "at least 10"),
    (["--email", "x@example.com", "--password", "long enough pw", "--role", "wizard"], "Unknown role wizard"),
    (["--email", "not an email", "--password", "long enough pw"], "valid email"),
])
def test_create_rejects_bad_input(app, args, message):
    result = app.test_cli_runner().invoke(args=["users", "create", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert _users(app) == []


def test_create_rejects_duplicate_email(app):
    runner = app.test_cli_runner()
    args = ["users", "create", "--email", "dup@example.com", "--password", "long enough pw"]
    assert runner.invoke(args=args).exit_code == 0
    result = runner.invoke(args=[*args[:3], "DUP@example.com", *args[4:]])
    assert result.exit_code == 1 and "already exists" in result.output
    assert len(_users(app)) == 1


def test_list_when_empty(app):
    result = app.test_cli_runner().invoke(args=["users", "list"])
    assert result.exit_code == 0 and "No users." in result.output


def test_real_flask_command_in_a_subprocess(tmp_path):
    """The installed `flask --app lms` entry point, outside any request (as an operator runs it)."""
    import os
    import subprocess
    import sys

    from lms import create_app

    env = {**os.environ, "NIA_ENV": "testing", "NIA_INSTANCE_DIR": str(tmp_path),
           "NIA_SECRET_KEY": "cli-test-secret-key-123", "NIA_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db"}
    env.pop("NIA_TEST_DATABASE_URL", None)
    other = create_app({"NIA_ENV": "testing", "INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "x" * 32,
                        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/cli.db"})
    with other.app_context():
        db.create_all()
        db.engine.dispose()

    def flask(*args):
        return subprocess.run([sys.executable, "-m", "flask", "--app", "lms", "users", *args], env=env,
                              capture_output=True, text=True, timeout=120)

    created = flask("create", "--email", "ops@example.com", "--password", "operator password", "--role", "admin")
    assert created.returncode == 0, created.stderr
    duplicate = flask("create", "--email", "ops@example.com", "--password", "operator password")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    assert "Traceback" not in duplicate.stderr
