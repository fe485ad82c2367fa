"""Password hashing (argon2id) and signed password-reset tokens."""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 accepts more, but nobody types this; bounds hashing work per request

# Production: argon2-cffi's defaults (RFC 9106 low-memory profile, ~0.1 s on one core).
_PRODUCTION = PasswordHasher()
# Tests hash hundreds of passwords on a shared machine; like Django's test hashers they use cheap parameters.
# Hashes stay argon2id, and rehash-on-login upgrades them if such a hash ever meets production settings.
_TESTING = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
_RESET_SALT = "nia.accounts.password-reset"


def _hasher() -> PasswordHasher:
    return _TESTING if has_app_context() and current_app.config.get("TESTING") else _PRODUCTION


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if `password` matches; a malformed stored hash is a mismatch, never an exception."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


_DUMMY_HASH: dict[int, str] = {}


def burn_verify_time(password: str) -> None:
    """Spend as long as a real verification so response time does not reveal unknown emails."""
    hasher = _hasher()
    key = id(hasher)
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = hasher.hash("not-a-real-password-used-for-timing")
    verify_password(_DUMMY_HASH[key], password)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_RESET_SALT)


def _fingerprint(user: Any) -> str:
    """Changes whenever the password or session version changes, so a used token stops working."""
    material = f"{user.id}:{user.session_version}:{user.password_hash}".encode()
    return hashlib.sha256(material).hexdigest()[:20]


def make_reset_token(user: Any) -> str:
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user)})


def read_reset_token(token: str) -> tuple[int, str] | None:
    """(user id, fingerprint) from a valid, unexpired token; None otherwise."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("f"), str):
        return None
    return data["u"], data["f"]


def token_matches(user: Any, fingerprint: str) -> bool:
    return hmac.compare_digest(_fingerprint(user), fingerprint)
