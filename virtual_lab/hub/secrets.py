"""Hub secrets generated on first run and kept in the instance folder (never in git).

Both the hub launcher and the LMS call `load_or_create(state_dir)`, so whichever starts first writes them and the
other reads the same values. Standard library only: the hub process does not import Flask.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

FILE_NAME = "secrets.json"
KEYS = ("cookie_secret", "crypt_key", "lms_api_token", "lab_spec_secret", "oidc_client_secret", "proxy_token")


def _fresh() -> dict[str, str]:
    return {"cookie_secret": secrets.token_hex(32),  # JupyterHub reads hex
            "crypt_key": secrets.token_hex(32),      # JUPYTERHUB_CRYPT_KEY: 32 bytes, hex
            "lms_api_token": secrets.token_hex(32),
            "lab_spec_secret": secrets.token_urlsafe(32),
            "oidc_client_secret": secrets.token_urlsafe(32),
            "proxy_token": secrets.token_hex(32)}


def load_or_create(state_dir: str | Path) -> dict[str, str]:
    state = Path(state_dir)
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = state / FILE_NAME
    if not path.exists():
        # Write a private temp file, then link it into place: a concurrent starter sees all or nothing.
        tmp = state / f".{FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(_fresh(), handle, indent=2)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    values = json.loads(path.read_text())
    missing = [k for k in KEYS if not values.get(k)]
    if missing:
        raise RuntimeError(f"{path} lacks {', '.join(missing)}; delete the file to regenerate every hub secret")
    return values


def default_state_dir() -> Path:
    instance = os.environ.get("NIA_INSTANCE_DIR") or str(Path.cwd() / "instance")
    return Path(os.environ.get("NIA_HUB_STATE_DIR") or Path(instance) / "hub").resolve()
