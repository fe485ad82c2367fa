"""SQLite settings for a multi-process server: the default rollback journal makes a reader block every writer,
so 100 trainees at once got "database is locked" errors (benchmarks/load). Write-ahead logging lets readers and a
writer proceed together, and a busy timeout makes a writer wait its turn instead of failing."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import event

from ..extensions import db

BUSY_TIMEOUT_MS = 15_000


def tune_sqlite(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:"):
        return
    with app.app_context():
        engine = db.engine  # created now (no connection is made); each new connection gets the settings
    event.listen(engine, "connect", _on_connect)


def _on_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "memory":  # in-memory databases have no file
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a crash loses no committed data
    finally:
        cursor.close()
