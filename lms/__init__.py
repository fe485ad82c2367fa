"""NI Academy LMS: `create_app()` builds the Flask application (Flask CLI finds it by name)."""
from __future__ import annotations

import importlib
import importlib.util
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from .config import ConfigError, load_config
from .core.sqlite import tune_sqlite

__all__ = ["create_app", "ConfigError"]

# Packages beside lms/ that plug into the web app through their own `init_app(app)`.
COMPONENT_MODULES = ("grading.web", "certificates.web", "virtual_lab.web")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    settings = load_config(config)
    instance = Path(settings["INSTANCE_DIR"])
    instance.mkdir(parents=True, exist_ok=True)
    if settings["NIA_ENV"] == "development" and not (config or {}).get("SECRET_KEY") \
            and not os.environ.get("NIA_SECRET_KEY"):
        settings["SECRET_KEY"] = _persistent_dev_secret(instance)

    app = Flask(__name__, instance_path=str(instance))
    app.config.update(settings)
    _init_extensions(app)
    _register_blueprints(app)
    _register_components(app)
    from .core.errors import register_error_handlers
    from .core.security import init_security
    from .cli import register_cli

    register_error_handlers(app)
    init_security(app)
    register_cli(app)
    return app


def _persistent_dev_secret(instance: Path) -> str:
    """Development keeps one random key in instance/secret_key so sessions survive restarts."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _init_extensions(app: Flask) -> None:
    from . import models  # noqa: F401 - registers tables
    from .core.i18n import init_i18n, select_locale
    from .extensions import api, babel, csrf, db, login_manager, migrate

    db.init_app(app)
    tune_sqlite(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    init_i18n(app)
    login_manager.init_app(app)
    api.init_app(app)
    app.extensions["nia.health"] = {}


def _register_blueprints(app: Flask) -> None:
    from .core.health import bp as health_bp
    from .core.views import bp as core_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(core_bp)
    for name in ("accounts", "learning", "quizzes", "instructor", "admin", "api", "oidc", "labs"):
        module = f"{__name__}.{name}"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module).init_app(app)


def _register_components(app: Flask) -> None:
    for name in COMPONENT_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            importlib.import_module(name).init_app(app)
