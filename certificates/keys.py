"""Issuer keys: private keys in files outside the database (0600, directory 0700), metadata in cert_signing_keys."""
from __future__ import annotations

import os
import secrets
import stat
from datetime import datetime, timezone
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from sqlalchemy import select

from lms.extensions import db

from .models import SigningKey
from .proof import public_key_multibase


class KeyError_(RuntimeError):
    """Key files are missing, unreadable or too widely readable; the message says what to do."""


def key_dir() -> Path:
    return Path(current_app.config["CERTS_KEY_DIR"])


def active_key() -> SigningKey | None:
    return db.session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))
                              .order_by(SigningKey.id.desc())).first()


def all_keys() -> list[SigningKey]:
    return list(db.session.scalars(select(SigningKey).order_by(SigningKey.id)))


def _write_private(path: Path, key: Ed25519PrivateKey) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def generate_key() -> SigningKey:
    """Create a new active key (retiring the current one); the caller commits."""
    now = datetime.now(timezone.utc)
    current = active_key()
    key_id = f"key-{now:%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
    private = Ed25519PrivateKey.generate()
    file_name = f"{key_id}.pem"
    _write_private(key_dir() / file_name, private)
    record = SigningKey(key_id=key_id, public_multibase=public_key_multibase(private.public_key()),
                        file_name=file_name, created_at=now)
    if current is not None:
        current.retired_at = now
    db.session.add(record)
    db.session.flush()
    return record


def ensure_key() -> SigningKey:
    """The active key; in development/testing one is generated on first use, production needs `certs keygen`."""
    key = active_key()
    if key is not None:
        return key
    if not current_app.config.get("CERTS_AUTO_KEYGEN"):
        raise KeyError_("no issuer key: run `flask --app lms certs keygen` first")
    return generate_key()


_cache: dict[str, Ed25519PrivateKey] = {}


def load_private(record: SigningKey) -> Ed25519PrivateKey:
    path = key_dir() / record.file_name
    cache_key = f"{path}:{record.public_multibase}"
    if cache_key in _cache:
        return _cache[cache_key]
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyError_(f"private key file {path} is missing") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyError_(f"private key file {path} is readable by others (mode {oct(mode & 0o777)}); "
                        f"run: chmod 600 {path}")
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey) or public_key_multibase(private.public_key()) != \
            record.public_multibase:
        raise KeyError_(f"private key file {path} does not match key {record.key_id}")
    _cache[cache_key] = private
    return private
