"""`flask --app lms courses import|validate [PATH]`."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .importer import ContentInvalid, ImportAborted, import_courses, validate

courses_cli = AppGroup("courses", help="Validate and import course content (courses/<slug>/).")


def _path(value: str | None) -> Path:
    return Path(value) if value else Path(current_app.config["COURSES_DIR"])


def _fail(errors) -> None:
    for error in errors:
        click.echo(str(error), err=True)
    click.echo(f"{len(errors)} error(s); nothing was imported.", err=True)
    raise SystemExit(1)


@courses_cli.command("validate")
@click.argument("path", required=False)
def validate_command(path: str | None) -> None:
    """Check course files (schema and references) without writing anything."""
    try:
        specs = validate(_path(path))
    except ContentInvalid as invalid:
        for error in invalid.errors:
            click.echo(str(error), err=True)
        click.echo(f"{len(invalid.errors)} error(s).", err=True)
        raise SystemExit(1) from None
    for spec in specs:
        click.echo(f"ok  {spec.slug}: " + ", ".join(f"{n} {k}" for k, n in spec.counts().items()))
    click.echo(f"{len(specs)} course(s) valid.")


@courses_cli.command("import")
@click.argument("path", required=False)
def import_command(path: str | None) -> None:
    """Validate, then import everything in one transaction (re-import updates in place)."""
    try:
        result = import_courses(_path(path))
    except ContentInvalid as invalid:
        _fail(invalid.errors)
    except ImportAborted as aborted:
        click.echo(f"import refused: {aborted}", err=True)
        click.echo("nothing was imported.", err=True)
        raise SystemExit(1) from None
    for slug, action, counts in result.courses:
        click.echo(f"{action:8} {slug}: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    for slug in result.archived:
        click.echo(f"archived {slug} (no longer in the course files; learner data kept)")
    click.echo(f"{len(result.courses)} course(s) imported.")
