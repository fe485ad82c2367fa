"""Layered configuration: defaults -> optional file (NIA_CONFIG_FILE) -> environment -> explicit dict.

Everything is validated once at start so a typo fails loudly with a message that names the setting.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the message says which and why."""


# Ports never collide with the standard ones taken on shared machines (1883/5432/6379/5672/4222/3306).
DEFAULTS: dict[str, Any] = {
    "NIA_ENV": "production",
    "LMS_HOST": "127.0.0.1",
    "LMS_PORT": 8470,
    "PUBLIC_BASE_URL": "",
    "PROXY_FIX_X_FOR": 0,  # number of trusted reverse proxies in front of the LMS
    "SQLALCHEMY_DATABASE_URI": "",
    "SECRET_KEY": "",
    "INSTANCE_DIR": "",
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "MAIL_BACKEND": "console",  # console | file | smtp
    "MAIL_FILE_DIR": "",
    "MAIL_FROM": "NI Academy <no-reply@ni-academy.local>",
    "SMTP_HOST": "localhost",
    "SMTP_PORT": 25,
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": False,
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "PASSWORD_RESET_MAX_AGE": 3600,
    # Throttling: generous per IP (a classroom behind one NAT), strict per account.
    "LOGIN_FAILURES_PER_ACCOUNT": 5,
    "LOGIN_FAILURES_PER_ACCOUNT_IP": 5,
    "LOGIN_FAILURES_PER_IP": 200,
    "LOGIN_WINDOW_SECONDS": 900,
    "RESET_REQUESTS_PER_ACCOUNT": 3,
    "RESET_REQUESTS_PER_IP": 100,
    "BABEL_DEFAULT_LOCALE": "en",
    "LANGUAGES": ["en", "zh_Hant", "zh_Hans"],
    "COURSES_DIR": "",
    "WTF_CSRF_ENABLED": True,
    "WTF_CSRF_TIME_LIMIT": None,
    # Public pages for anonymous visitors are kept in memory per content generation (lms/core/page_cache.py);
    # a re-import is seen by every worker within PAGE_CACHE_CHECK_SECONDS (0 in tests: at once).
    "PAGE_CACHE_ENABLED": True,
    "PAGE_CACHE_CHECK_SECONDS": 1.0,
    "TESTING": False,
}

_INT_KEYS = {"LMS_PORT", "PROXY_FIX_X_FOR", "MAX_CONTENT_LENGTH", "SMTP_PORT", "PASSWORD_RESET_MAX_AGE",
             "LOGIN_FAILURES_PER_ACCOUNT", "LOGIN_FAILURES_PER_ACCOUNT_IP", "LOGIN_FAILURES_PER_IP",
             "LOGIN_WINDOW_SECONDS", "RESET_REQUESTS_PER_ACCOUNT", "RESET_REQUESTS_PER_IP"}
_BOOL_KEYS = {"SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "REMEMBER_COOKIE_SECURE",
              "REMEMBER_COOKIE_HTTPONLY", "SMTP_STARTTLS", "WTF_CSRF_ENABLED", "TESTING", "PAGE_CACHE_ENABLED"}
_FLOAT_KEYS = {"PAGE_CACHE_CHECK_SECONDS"}
# Environment variable -> setting. NIA_<KEY> works for every key; these are the conventional aliases.
_ENV_ALIASES = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI", "NIA_DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
                "NIA_SECRET_KEY": "SECRET_KEY", "NIA_LMS_PORT": "LMS_PORT"}
_ENVS = {"production", "development", "testing"}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


def _coerce(key: str, value: Any) -> Any:
    if key in _INT_KEYS and not isinstance(value, int):
        try:
            return int(str(value).strip())
        except ValueError:
            raise ConfigError(f"{key} must be a whole number, got {value!r}") from None
    if key in _FLOAT_KEYS and not isinstance(value, (int, float)):
        try:
            return float(str(value).strip())
        except ValueError:
            raise ConfigError(f"{key} must be a number, got {value!r}") from None
    if key in _BOOL_KEYS and not isinstance(value, bool):
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    return value


def _from_file(path: str) -> dict[str, Any]:
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"NIA_CONFIG_FILE points to {path!r}, which is not a file")
    namespace: dict[str, Any] = {}
    exec(compile(file.read_text(), str(file), "exec"), namespace)  # noqa: S102 - operator-owned file
    return {k: v for k, v in namespace.items() if k.isupper()}


def _from_env(environ: os._Environ | dict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in environ.items():
        if name in _ENV_ALIASES:
            found[_ENV_ALIASES[name]] = value
        elif name.startswith("NIA_") and (name[4:] in DEFAULTS or _known_extra(name[4:])):
            found[name[4:]] = value
        elif name == "NIA_ENV":
            found["NIA_ENV"] = value
    return found


def load_config(overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return the validated settings; raises ConfigError naming the faulty setting."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    if environ.get("NIA_CONFIG_FILE"):
        settings.update(_from_file(environ["NIA_CONFIG_FILE"]))
    settings.update(_from_env(environ))
    settings.update(overrides or {})
    unknown = sorted(k for k in (overrides or {}) if k.isupper() and k not in DEFAULTS and not _known_extra(k))
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    for key in list(settings):
        settings[key] = _coerce(key, settings[key])
    return _validate(settings)


def _known_extra(key: str) -> bool:
    """Settings owned by Flask, its extensions or our other packages (grading, certificates, lab).

    Packages set their own defaults with app.config.setdefault() in init_app and validate them there,
    raising ConfigError; NIA_<KEY> environment variables reach them through this layer."""
    return key.startswith(("SQLALCHEMY_", "SESSION_", "REMEMBER_", "WTF_", "BABEL_", "API_", "OPENAPI_",
                           "GRADING_", "CERTS_", "LAB_", "MQTT_", "HUB_", "OIDC_", "SIM_", "SERVER_NAME", "PREFERRED_URL_SCHEME",
                           "PROPAGATE_EXCEPTIONS", "DEBUG", "RATELIMIT_"))


def _validate(settings: dict[str, Any]) -> dict[str, Any]:
    env = settings["NIA_ENV"]
    if env not in _ENVS:
        raise ConfigError(f"NIA_ENV must be one of {sorted(_ENVS)}, got {env!r}")
    instance = Path(settings["INSTANCE_DIR"] or Path.cwd() / "instance").resolve()
    settings["INSTANCE_DIR"] = str(instance)
    if not settings["SQLALCHEMY_DATABASE_URI"]:
        settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'ni_academy.db'}"
    uri = settings["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):
        uri = settings["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgres://"):]
    elif uri.startswith("postgresql://"):
        uri = settings["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgresql://"):]
    if not uri.startswith(("sqlite:", "postgresql+psycopg:")):
        raise ConfigError(f"DATABASE_URL must be sqlite:/// or postgresql://, got {uri.split(':')[0]!r}")
    if not 1 <= settings["LMS_PORT"] <= 65535:
        raise ConfigError(f"LMS_PORT must be between 1 and 65535, got {settings['LMS_PORT']}")
    if settings["MAIL_BACKEND"] not in {"console", "file", "smtp"}:
        raise ConfigError(f"MAIL_BACKEND must be console, file or smtp, got {settings['MAIL_BACKEND']!r}")
    if settings["MAX_CONTENT_LENGTH"] <= 0:
        raise ConfigError("MAX_CONTENT_LENGTH must be positive")
    if not settings["SECRET_KEY"]:
        if env == "production":
            raise ConfigError("SECRET_KEY is required in production (set NIA_SECRET_KEY); "
                              "`make run` generates one in instance/secret_key for development")
        settings["SECRET_KEY"] = secrets.token_hex(32)
    elif len(str(settings["SECRET_KEY"])) < 16:
        raise ConfigError("SECRET_KEY is too short (at least 16 characters)")
    if env != "production" and not os.environ.get("NIA_SESSION_COOKIE_SECURE"):
        # Development and tests are served over plain HTTP on loopback.
        settings["SESSION_COOKIE_SECURE"] = settings["REMEMBER_COOKIE_SECURE"] = False
    if not settings["MAIL_FILE_DIR"]:
        settings["MAIL_FILE_DIR"] = str(instance / "mail")
    if not settings["COURSES_DIR"]:
        settings["COURSES_DIR"] = str(Path(__file__).resolve().parent.parent / "courses")
    settings["TESTING"] = settings["TESTING"] or env == "testing"
    if settings["PAGE_CACHE_CHECK_SECONDS"] < 0:
        raise ConfigError("PAGE_CACHE_CHECK_SECONDS must be 0 or more")
    settings.setdefault("API_TITLE", "NI Academy API")
    settings.setdefault("API_VERSION", "v1")
    settings.setdefault("OPENAPI_VERSION", "3.0.3")
    settings.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    settings.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    return settings
