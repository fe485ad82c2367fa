"""create_app and layered configuration."""
import pytest

from lms import ConfigError, create_app
from lms.config import load_config


def test_health_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["components"]["database"]["status"] == "ok"


def test_unknown_page_is_html_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_unknown_api_path_is_problem_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404


def test_security_headers(client):
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_production_requires_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY is required"):
        load_config({"NIA_ENV": "production", "INSTANCE_DIR": str(tmp_path)}, environ={})


@pytest.mark.parametrize("overrides, message", [
    ({"LMS_PORT": "eighty"}, "LMS_PORT must be a whole number"),
    ({"LMS_PORT": 70000}, "LMS_PORT must be between"),
    ({"NIA_ENV": "staging"}, "NIA_ENV must be one of"),
    ({"MAIL_BACKEND": "pigeon"}, "MAIL_BACKEND must be"),
    ({"SQLALCHEMY_DATABASE_URI": "mysql://x"}, "DATABASE_URL must be"),
    ({"SESSION_COOKIE_SECURE": "maybe"}, "must be true or false"),
    ({"NO_SUCH_SETTING": 1}, "unknown setting"),
])
def test_bad_config_is_named(tmp_path, overrides, message):
    settings = {"NIA_ENV": "testing", "INSTANCE_DIR": str(tmp_path), **overrides}
    with pytest.raises(ConfigError, match=message):
        load_config(settings, environ={})


def test_environment_overrides_file_and_defaults(tmp_path):
    config_file = tmp_path / "settings.py"
    config_file.write_text("LMS_PORT = 9001\nMAIL_BACKEND = 'file'\n")
    settings = load_config(environ={"NIA_CONFIG_FILE": str(config_file), "NIA_LMS_PORT": "9002",
                                    "NIA_ENV": "testing", "NIA_INSTANCE_DIR": str(tmp_path)})
    assert settings["LMS_PORT"] == 9002  # environment beats file
    assert settings["MAIL_BACKEND"] == "file"  # file beats default


def test_postgres_url_uses_psycopg3(tmp_path):
    settings = load_config({"NIA_ENV": "testing", "INSTANCE_DIR": str(tmp_path),
                            "SQLALCHEMY_DATABASE_URI": "postgresql://u@h/db"}, environ={})
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_create_app_has_no_global_state(tmp_path):
    first = create_app({"NIA_ENV": "testing", "INSTANCE_DIR": str(tmp_path / "a"), "SECRET_KEY": "x" * 32})
    second = create_app({"NIA_ENV": "testing", "INSTANCE_DIR": str(tmp_path / "b"), "SECRET_KEY": "y" * 32})
    assert first.config["SQLALCHEMY_DATABASE_URI"] != second.config["SQLALCHEMY_DATABASE_URI"]


def test_sqlite_file_database_lets_readers_and_a_writer_work_together(tmp_path):
    """WAL + busy timeout: a page can read while another process is writing (no "database is locked")."""
    import sqlite3

    from sqlalchemy import text

    from lms import create_app
    from lms.extensions import db

    path = tmp_path / "wal.db"
    application = create_app({"NIA_ENV": "testing", "INSTANCE_DIR": str(tmp_path),
                              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with application.app_context():
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 15000
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.commit()
        writer = sqlite3.connect(path, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("INSERT INTO t VALUES (1)")
            with db.engine.connect() as reader:  # would raise "database is locked" with the rollback journal
                assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0
            writer.execute("COMMIT")
        finally:
            writer.close()
        db.engine.dispose()
