"""Top-level CLI commands; each area adds its own group in its init_app."""
from __future__ import annotations

import click
from flask import Flask, current_app

_SECRET_WORDS = ("SECRET", "PASSWORD", "KEY", "TOKEN")


def register_cli(app: Flask) -> None:
    @app.cli.command("config-show")
    def config_show() -> None:
        """Print the validated configuration (secrets masked)."""
        from .config import DEFAULTS

        for key in sorted(DEFAULTS):
            value = current_app.config.get(key)
            if any(word in key for word in _SECRET_WORDS) and value:
                value = "********"
            click.echo(f"{key} = {value!r}")
