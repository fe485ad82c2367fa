"""`flask --app lms oidc register-hub`: register JupyterHub as a first-party client."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup


def register_cli(app: Flask) -> None:
    group = AppGroup("oidc", help="OpenID Connect provider (single sign-on for JupyterHub).")

    @group.command("register-hub")
    @click.option("--client-id", default=None, help="Defaults to OIDC_HUB_CLIENT_ID (jupyterhub).")
    @click.option("--redirect-uri", "redirect_uris", multiple=True,
                  help="Exact callback URL; repeatable. Defaults to OIDC_HUB_REDIRECT_URIS.")
    @click.option("--secret", default=None, help="Use this secret instead of generating one.")
    def register_hub(client_id, redirect_uris, secret):
        """Create or update the hub client and print its secret once (give it to the hub)."""
        from .operations import register_client

        client_id = client_id or current_app.config["OIDC_HUB_CLIENT_ID"]
        uris = list(redirect_uris) or list(current_app.config["OIDC_HUB_REDIRECT_URIS"])
        bad = [u for u in uris if not u.startswith(("http://", "https://"))]
        if bad:
            raise click.BadParameter(f"not an http(s) URL: {', '.join(bad)}", param_hint="--redirect-uri")
        client, new_secret = register_client(client_id, uris, secret=secret)
        click.echo(f"client_id: {client.client_id}")
        click.echo(f"client_secret: {new_secret}")
        click.echo(f"redirect_uris: {' '.join(client.redirect_uris)}")

    @group.command("purge")
    @click.option("--keep-hours", type=click.IntRange(min=0), default=24, show_default=True,
                  help="Keep rows that expired less than this long ago.")
    def purge(keep_hours):
        """Delete expired authorization codes and access tokens (also done with every new login)."""
        from lms.extensions import db

        from .operations import purge_expired

        codes, tokens = purge_expired(keep_s=keep_hours * 3600)
        db.session.commit()
        click.echo(f"deleted {codes} expired authorization code(s) and {tokens} expired access token(s)")

    app.cli.add_command(group)
