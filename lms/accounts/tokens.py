"""Personal access tokens for the REST API: shown once, stored as SHA-256, revocable.

A token is "nia_" + 43 url-safe characters (256 bits). Looking up the SHA-256 of a high-entropy secret by index
leaks nothing useful through timing; the digest is still compared with hmac.compare_digest afterwards.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ..core.audit import record
from ..core.exceptions import NotFound, UserError
from ..extensions import db
from ..models import ApiToken, User

PREFIX = "nia_"
MAX_TOKENS_PER_USER = 20
# last_used_at is refreshed at most this often, so API reads do not turn into a write per request.
_TOUCH_INTERVAL = timedelta(seconds=60)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """(stored token, raw secret). The raw secret is never stored; show it to the user once."""
    name = (name or "").strip()
    if not name:
        raise UserError(_("Give the token a name, for example the script that will use it."), field="token_name")
    active = db.session.scalar(select(func.count(ApiToken.id)).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    if active >= MAX_TOKENS_PER_USER:
        raise UserError(_("You already have %(n)d active tokens; revoke one first.", n=MAX_TOKENS_PER_USER),
                        field="token_name")
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name[:80], token_hash=_digest(raw), prefix=raw[:10])
    db.session.add(token)
    db.session.flush()
    record("token.created", f"token:{token.id}", actor_id=user.id, name=token.name, prefix=token.prefix)
    return token, raw


def list_tokens(user_id: int) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                                   .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())))


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Only the owner may revoke; someone else's token id is reported as not found."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = datetime.now(timezone.utc)
        record("token.revoked", f"token:{token.id}", actor_id=user.id, name=token.name)
    return token


def authenticate_token(raw: str | None) -> User | None:
    """The active user owning this unrevoked token, or None. Commits its own last_used_at refresh."""
    if not raw or not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    digest = _digest(raw)
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None or not hmac.compare_digest(token.token_hash, digest) or token.revoked_at is not None:
        return None
    user = db.session.get(User, token.user_id)
    if user is None or not user.active:
        return None
    now = datetime.now(timezone.utc)
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_INTERVAL:
        db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
        db.session.commit()
    return user
