"""Credentials: derived per trainee from a server secret, stored only as mosquitto PBKDF2-SHA512 hashes.

Why derive: the password can be handed to the trainee's own lab whenever it starts (JupyterHub spawn, LMS page)
without keeping plaintext anywhere; only the hash is on disk, in the file both brokers read (mosquitto natively,
the embedded broker through our auth plugin). Rotating the secret rotates every password.
"""
from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import os
import secrets
from contextlib import contextmanager
from pathlib import Path

ITERATIONS = 101  # mosquitto_passwd's default for $7$


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, kind, iterations, salt, digest = stored.split("$")
        if kind != "7":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(iterations), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def secret_for(state_dir: Path, configured: str = "") -> bytes:
    """The configured secret, else one generated on first use and kept (0600) in the state directory."""
    if configured:
        return configured.encode()
    path = state_dir / "credential-secret"
    state_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip().encode()


def derive_password(secret: bytes, username: str) -> str:
    mac = hmac.new(secret, b"nia-mqtt-v1\x00" + username.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def read_file(path: Path) -> dict[str, str]:
    users: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, sep, hashed = line.strip().partition(":")
            if sep and name and not name.startswith("#"):
                users[name] = hashed
    return users


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_users(path: Path, users: dict[str, str]) -> bool:
    """Add (or fix) users -> password in the file; returns True when the file changed."""
    with _locked(path):
        current = read_file(path)
        changed = False
        for name, password in users.items():
            if name not in current or not verify_password(password, current[name]):
                current[name] = hash_password(password)
                changed = True
        if changed:
            tmp = path.with_suffix(".tmp")
            tmp.write_text("".join(f"{n}:{h}\n" for n, h in sorted(current.items())))
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        return changed


def remove_user(path: Path, name: str) -> bool:
    with _locked(path):
        current = read_file(path)
        if current.pop(name, None) is None:
            return False
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(f"{n}:{h}\n" for n, h in sorted(current.items())))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        return True
