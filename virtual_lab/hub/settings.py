"""Hub settings from NIA_* environment variables (the same names the LMS reads), validated with clear errors."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .secrets import default_state_dir

VENV_BIN = Path(sys.executable).parent
RESERVED_PORTS = {1883, 5432, 6379, 5672, 4222, 3306}


class HubConfigError(RuntimeError):
    pass


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise HubConfigError(f"{name} must be a port number, got {raw!r}")
    if int(raw) in RESERVED_PORTS:
        raise HubConfigError(f"{name}={raw} collides with a standard service port; choose another")
    return int(raw)


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    if not raw.lstrip("-").isdigit():
        raise HubConfigError(f"{name} must be a whole number, got {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class HubSettings:
    state_dir: Path
    hub_port: int
    hub_api_port: int
    proxy_api_port: int
    hub_public_url: str
    lms_public_url: str
    lms_internal_url: str
    oidc_client_id: str
    spawner: str
    auth_refresh_age: int
    named_server_limit: int
    cull_timeout: int
    cull_every: int
    allow_default_server: bool


def from_env() -> HubSettings:
    hub_port = _port("NIA_HUB_PORT", 8471)
    lms_port = _port("NIA_LMS_PORT", 8470)
    lms_public = os.environ.get("NIA_LMS_PUBLIC_URL") or os.environ.get("NIA_PUBLIC_BASE_URL") \
        or f"http://127.0.0.1:{lms_port}"
    spawner = os.environ.get("NIA_HUB_SPAWNER", "simple")
    if spawner not in ("simple", "docker"):
        raise HubConfigError(f"NIA_HUB_SPAWNER must be simple or docker, got {spawner!r}")
    return HubSettings(
        state_dir=default_state_dir(),
        hub_port=hub_port,
        hub_api_port=_port("NIA_HUB_API_PORT", 8472),
        proxy_api_port=_port("NIA_HUB_PROXY_API_PORT", 8473),
        hub_public_url=(os.environ.get("NIA_HUB_PUBLIC_URL") or f"http://127.0.0.1:{hub_port}").rstrip("/"),
        lms_public_url=lms_public.rstrip("/"),
        lms_internal_url=(os.environ.get("NIA_LMS_INTERNAL_URL") or lms_public).rstrip("/"),
        oidc_client_id=os.environ.get("NIA_OIDC_HUB_CLIENT_ID", "jupyterhub"),
        spawner=spawner,
        auth_refresh_age=_int("NIA_HUB_AUTH_REFRESH_AGE", 60),
        named_server_limit=_int("NIA_HUB_NAMED_SERVER_LIMIT", 20),
        cull_timeout=_int("NIA_HUB_CULL_TIMEOUT", 3600),
        cull_every=_int("NIA_HUB_CULL_EVERY", 300),
        allow_default_server=os.environ.get("NIA_HUB_ALLOW_DEFAULT_SERVER", "0") in ("1", "true", "yes"),
    )
