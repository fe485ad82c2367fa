"""`flask users create|list`: the way to create the first admin on a fresh installation."""
from __future__ import annotations

import click
from flask import current_app
from flask_babel import force_locale
from flask.cli import AppGroup
from sqlalchemy import select

from ..core.exceptions import UserError
from ..extensions import db
from ..models import Role, User
from . import operations

users_cli = AppGroup("users", help="Create and list user accounts.")


@users_cli.command("create")
@click.option("--email", required=True, help="Login email (stored in lower case).")
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--role", default=Role.TRAINEE.value, show_default=True,
              help="trainee, instructor or admin.")
@click.option("--name", default=None, help="Display name (defaults to the part of the email before @).")
def create_command(email: str, password: str, role: str, name: str | None) -> None:
    """Create an account; exits with status 1 and a clear message if it cannot."""
    try:
        # No request here: messages use the default language rather than asking the browser's.
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            user = operations.create_user(email, password, name=name, role=role.strip().lower())
        db.session.commit()
    except UserError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


@users_cli.command("list")
@click.option("--role", default=None, help="Only this role.")
def list_command(role: str | None) -> None:
    """Print every account: id, role, state, email and name."""
    query = select(User).order_by(User.id)
    if role:
        query = query.where(User.role == role)
    users = list(db.session.scalars(query))
    if not users:
        click.echo("No users.")
        return
    click.echo(f"{'id':>5}  {'role':<10}  {'state':<8}  {'email':<40}  name")
    for user in users:
        state = "active" if user.active else "disabled"
        click.echo(f"{user.id:>5}  {user.role:<10}  {state:<8}  {user.email:<40}  {user.name}")
