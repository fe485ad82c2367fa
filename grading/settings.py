"""Grading settings: defaults, coercion and validation (raised as lms.config.ConfigError)."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from lms.config import ConfigError

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}

DEFAULTS = {
    "GRADING_DIR": "",  # default <instance>/grading: nbgrader course dirs, submissions store, SQLite queue
    "GRADING_ALLOW_UNSAFE": False,  # grade WITHOUT bubblewrap (development only; loudly reported)
    "GRADING_REDIS_URL": "",  # set to use RedisHuey (several hosts); empty = SqliteHuey in GRADING_DIR
    "GRADING_MAX_UPLOAD_BYTES": 2 * 1024 * 1024,
    "GRADING_MAX_OUTPUT_BYTES": 1_000_000,
    "GRADING_LEASE_S": 60,  # a job whose worker stopped renewing this long ago is retried
    "GRADING_MAX_ATTEMPTS": 3,
    "GRADING_POLL_S": 0.1,  # worker poll interval on the SQLite queue
}
_BOOLS = {"GRADING_ALLOW_UNSAFE"}
_INTS = {"GRADING_MAX_UPLOAD_BYTES", "GRADING_MAX_OUTPUT_BYTES", "GRADING_LEASE_S", "GRADING_MAX_ATTEMPTS"}


def configure(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    for key in _BOOLS:
        value = app.config[key]
        if not isinstance(value, bool):
            text = str(value).strip().lower()
            if text not in _TRUE | _FALSE:
                raise ConfigError(f"{key} must be true or false, got {value!r}")
            app.config[key] = text in _TRUE
    for key in _INTS:
        try:
            app.config[key] = int(str(app.config[key]).strip())
        except ValueError:
            raise ConfigError(f"{key} must be a whole number, got {app.config[key]!r}") from None
        if app.config[key] <= 0:
            raise ConfigError(f"{key} must be positive")
    try:
        app.config["GRADING_POLL_S"] = float(app.config["GRADING_POLL_S"])
    except ValueError:
        raise ConfigError(f"GRADING_POLL_S must be a number of seconds, got {app.config['GRADING_POLL_S']!r}") from None
    if app.config["GRADING_LEASE_S"] < 2:
        raise ConfigError("GRADING_LEASE_S must be at least 2 seconds")
    url = app.config["GRADING_REDIS_URL"]
    if url and not str(url).startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"GRADING_REDIS_URL must be a redis:// URL, got {url!r}")
    app.config["GRADING_DIR"] = str(Path(app.config["GRADING_DIR"] or Path(app.instance_path) / "grading").resolve())
