"""Course content as files: YAML/Markdown loader with line numbers, validator, sanitising renderer, importer.

The `courses` CLI group is registered by `init_app`, which lms.learning calls (content has no pages of its own).
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    if app.extensions.get("nia.content"):
        return
    from .cli import courses_cli

    app.cli.add_command(courses_cli)
    app.extensions["nia.content"] = True
