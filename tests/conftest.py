"""Shared fixtures. Area fixtures live in tests/fixtures/ and are loaded as plugins.

Database: SQLite in a temporary directory by default; set NIA_TEST_DATABASE_URL (make test does this when
PostgreSQL is reachable) to run the same tests on PostgreSQL. Every test starts with empty tables.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient

from lms import create_app
from lms.extensions import db

pytest_plugins = [f"tests.fixtures.{p.stem}" for p in sorted((Path(__file__).parent / "fixtures").glob("*.py"))
                  if not p.stem.startswith("_")]


def _private_postgres_database(base_url: str):
    """Create a database of our own on the given server so concurrent runs never share tables."""
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    name = f"nia_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop():
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    base = os.environ.get("NIA_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path_factory.mktemp('db')}/test.db"
        return
    url, drop = _private_postgres_database(base)
    yield url
    drop()


@pytest.fixture(scope="session")
def app_config(tmp_path_factory, database_url) -> dict:
    instance = tmp_path_factory.mktemp("instance")
    return {
        "NIA_ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "INSTANCE_DIR": str(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_BACKEND": "file",
        "MAIL_FILE_DIR": str(instance / "mail"),
        "LOGIN_FAILURES_PER_IP": 200,
        "PAGE_CACHE_CHECK_SECONDS": 0,  # tests change content between requests: see it at once
    }


class FreshClient(FlaskClient):
    """A test browser that never reuses another request's signed-in user.

    pytest-flask keeps one request context pushed for the whole test; flask-login, Flask-WTF and Flask-Babel cache
    per-request state in `g`, so without this a second browser would act as whoever signed in last."""

    def open(self, *args, **kwargs):
        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(app_config):
    application = create_app(app_config)
    application.test_client_class = FreshClient
    with application.app_context():
        db.drop_all()
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def empty_all_tables(application) -> None:
    """Delete every row (TRUNCATE on PostgreSQL) without dropping the schema."""
    with application.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
                connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
            else:
                for table in reversed(db.metadata.sorted_tables):
                    connection.execute(table.delete())
        db.session.remove()


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Empty every table after each test that used the app, so tests never see each other's rows."""
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    if has_app_context():
        # pytest-flask's pushed context may hold a session idle in transaction (blocks TRUNCATE on PostgreSQL).
        db.session.remove()
    empty_all_tables(application)


@pytest.fixture
def db_session(app):
    with app.app_context():
        yield db.session


def extract_csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture
def csrf_token(client):
    """A valid CSRF token for this client's session (read from a rendered page, as a browser would)."""
    def _token(page: str = "/") -> str:
        return extract_csrf(client.get(page).get_data(as_text=True))
    return _token


@pytest.fixture(autouse=True, scope="module")
def _collect_garbage_per_module():
    """Unclosed sockets/files surface as ResourceWarning (an error here) in the module that leaked them,
    not in whichever later test happens to trigger garbage collection."""
    yield
    import gc

    gc.collect()
