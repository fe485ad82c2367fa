"""Writes: client registration and token revocation."""
from __future__ import annotations

import secrets
import time

from sqlalchemy import delete, select, update

from lms.core.audit import record
from lms.extensions import db

from .models import AccessToken, AuthorizationCode, OAuthClient, digest
from .server import SCOPES


def register_client(client_id: str, redirect_uris: list[str], *, name: str = "JupyterHub",
                    secret: str | None = None, first_party: bool = True) -> tuple[OAuthClient, str]:
    """Create or update a client; returns it with its (new) secret, shown once."""
    secret = secret or secrets.token_urlsafe(32)
    client = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if client is None:
        client = OAuthClient(client_id=client_id)
        db.session.add(client)
    client.name = name
    client.secret_hash = digest(secret)
    client.redirect_uris = list(redirect_uris)
    client.scopes = list(SCOPES)
    client.first_party = first_party
    record("oidc.client_registered", client_id, redirect_uris=list(redirect_uris))
    db.session.commit()
    return client, secret


def revoke_user_tokens(user_id: int) -> int:
    """Every access token of the user stops working; the hub's next refresh then asks for a new login."""
    result = db.session.execute(update(AccessToken).where(AccessToken.user_id == user_id,
                                                          AccessToken.revoked.is_(False)).values(revoked=True))
    return result.rowcount or 0


EXPIRED_KEPT_S = 24 * 3600  # expired rows stay a day: enough to investigate a login problem in the audit trail


def purge_expired(now: float | None = None, keep_s: int = EXPIRED_KEPT_S) -> tuple[int, int]:
    """Delete authorization codes and access tokens that expired more than `keep_s` ago; (codes, tokens).
    Runs with every new authorization code (so the tables stay small without a cron job) and as
    `flask oidc purge`. An expired code is refused anyway, so its replay protection is no longer needed."""
    cutoff = int((time.time() if now is None else now) - keep_s)
    tokens = db.session.execute(delete(AccessToken).where(
        AccessToken.issued_at + AccessToken.expires_in < cutoff)).rowcount or 0
    codes = db.session.execute(delete(AuthorizationCode).where(AuthorizationCode.expires_at < cutoff)).rowcount or 0
    return codes, tokens
