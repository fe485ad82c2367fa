"""The ID-token signing key: one RSA key in the instance folder, created on first use, published as JWKS."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from flask import current_app
from joserfc.jwk import RSAKey


def key_path() -> Path:
    configured = current_app.config.get("OIDC_SIGNING_KEY_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / "oidc" / "signing_key.pem"


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> RSAKey:
    key = RSAKey.import_key(Path(path).read_bytes())
    key.ensure_kid()
    return key


def signing_key() -> RSAKey:
    path = key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = RSAKey.generate_key(2048, private=True)
        # O_EXCL: two workers starting together must not overwrite each other's key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(key.as_pem(private=True))
    return _load(str(path), path.stat().st_mtime)


def public_jwks() -> dict:
    key = signing_key()
    public = key.as_dict(private=False)
    public.update({"kid": key.kid, "use": "sig", "alg": "RS256"})
    return {"keys": [public]}
