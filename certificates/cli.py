"""`flask --app lms certs keygen|rotate|issue|revoke|status`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from lms.core.audit import record as audit
from lms.extensions import db

certs_cli = AppGroup("certs", help="Issuer keys and certificates.")


@certs_cli.command("keygen")
def keygen() -> None:
    """Create the first issuer key (refuses if one exists: use rotate)."""
    from .keys import active_key, generate_key, key_dir

    if active_key() is not None:
        raise click.ClickException("an issuer key already exists; use `certs rotate` to replace it")
    record = generate_key()
    audit("certificate.key_generated", f"key:{record.key_id}", actor_id=None)
    db.session.commit()
    click.echo(f"created key {record.key_id} in {key_dir()} (mode 0600); public {record.public_multibase}")


@certs_cli.command("rotate")
def rotate() -> None:
    """Create a new active key; the old one stays published so its credentials keep verifying."""
    from .keys import active_key, generate_key

    old = active_key()
    record = generate_key()
    audit("certificate.key_rotated", f"key:{record.key_id}", actor_id=None, retired=old.key_id if old else None)
    db.session.commit()
    click.echo(f"active key is now {record.key_id}" + (f"; {old.key_id} retired (published while credentials it signed are valid)" if old else ""))


@certs_cli.command("issue")
@click.argument("email")
@click.argument("course_slug")
def issue(email: str, course_slug: str) -> None:
    """Issue (or re-issue after expiry) the certificate of COURSE_SLUG to the user with EMAIL."""
    from sqlalchemy import select

    from lms.models import Course, User

    from .operations import issue_credential

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    course = db.session.scalar(select(Course).where(Course.slug == course_slug))
    if user is None or course is None:
        raise click.ClickException("unknown user email or course slug")
    row = issue_credential(user.id, course.id)
    db.session.commit()
    click.echo(f"credential urn:uuid:{row.id} ({row.state})")


@certs_cli.command("revoke")
@click.argument("credential_id")
@click.option("--reason", required=True, help="Why (kept in the audit log).")
@click.option("--suspend", is_flag=True, help="Suspend instead of revoking (can be reinstated).")
def revoke(credential_id: str, reason: str, suspend: bool) -> None:
    """Revoke (or suspend) a credential."""
    from lms.core.exceptions import UserError

    from .operations import change_status

    try:
        row = change_status(credential_id, "suspend" if suspend else "revoke", reason)
    except UserError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"credential urn:uuid:{row.id} is now {row.state}")
