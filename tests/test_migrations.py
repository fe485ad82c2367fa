"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect

from lms import create_app
from lms.extensions import db


def _migrated_app(tmp_path, database_url):
    url = database_url if database_url.startswith("postgresql") else f"sqlite:///{tmp_path}/migrated.db"
    return create_app({"NIA_ENV": "testing", "INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "m" * 32,
                       "SQLALCHEMY_DATABASE_URI": url})


def test_migrations_match_models(app, tmp_path, database_url):
    if database_url.startswith("postgresql"):
        # The session app created tables with create_all in this database; migrate a clean schema instead.
        with app.app_context():
            db.drop_all()
    migrated = _migrated_app(tmp_path, database_url)
    try:
        with migrated.app_context():
            upgrade()
            with db.engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                differences = compare_metadata(context, db.metadata)
            assert differences == [], f"models and migrations differ: {differences}"
            downgrade(revision="base")
            leftover = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
            assert leftover == set()
            db.engine.dispose()
    finally:
        if database_url.startswith("postgresql"):
            with app.app_context():
                engine = create_engine(database_url)
                with engine.begin() as connection:
                    connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
                engine.dispose()
                db.create_all()
