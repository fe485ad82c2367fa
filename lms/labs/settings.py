"""HUB_* and OIDC_HUB_* settings shared by lms.labs and lms.oidc; secrets default to the hub's generated file."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from lms.config import ConfigError

_INTS = ("HUB_PORT", "HUB_TIMEOUT", "HUB_SPAWN_TIMEOUT", "OIDC_CODE_TTL", "OIDC_TOKEN_TTL", "HUB_SUBMIT_MIN_INTERVAL",
         "HUB_SUBMITS_PER_HOUR", "HUB_LAB_TOKEN_FAILURES_PER_IP")


def apply_hub_settings(app: Flask) -> None:
    if app.extensions.get("nia.hub_settings"):
        return
    cfg = app.config
    cfg.setdefault("HUB_PORT", 8471)
    cfg.setdefault("HUB_TIMEOUT", 10)          # seconds for one hub API call
    cfg.setdefault("HUB_SPAWN_TIMEOUT", 120)   # seconds the progress stream may last
    cfg.setdefault("OIDC_CODE_TTL", 300)
    cfg.setdefault("OIDC_TOKEN_TTL", 3600)
    cfg.setdefault("HUB_SUBMIT_MIN_INTERVAL", 10)       # seconds between two submissions of one lab by one trainee
    cfg.setdefault("HUB_SUBMITS_PER_HOUR", 30)          # per trainee and lab
    cfg.setdefault("HUB_LAB_TOKEN_FAILURES_PER_IP", 30)  # refused in-lab tokens per address in 10 minutes
    cfg.setdefault("HUB_LAB_LMS_URL", "")  # how lab servers reach the LMS (submit command); "" = as the hub does
    for key in _INTS:
        try:
            cfg[key] = int(cfg[key])
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be a whole number, got {cfg[key]!r}") from None
    for key in ("HUB_SUBMITS_PER_HOUR", "HUB_LAB_TOKEN_FAILURES_PER_IP"):
        if cfg[key] < 1:
            raise ConfigError(f"{key} must be at least 1, got {cfg[key]}")
    if not 1 <= cfg["HUB_PORT"] <= 65535:
        raise ConfigError(f"HUB_PORT must be between 1 and 65535, got {cfg['HUB_PORT']}")
    cfg.setdefault("HUB_URL", f"http://127.0.0.1:{cfg['HUB_PORT']}")  # how the LMS reaches the hub (proxy)
    cfg["HUB_URL"] = cfg["HUB_URL"].rstrip("/")
    cfg.setdefault("HUB_PUBLIC_URL", cfg["HUB_URL"])  # how browsers reach it
    cfg["HUB_PUBLIC_URL"] = cfg["HUB_PUBLIC_URL"].rstrip("/")
    cfg["HUB_LAB_LMS_URL"] = (cfg["HUB_LAB_LMS_URL"] or "").rstrip("/")
    for key in ("HUB_URL", "HUB_PUBLIC_URL", "HUB_LAB_LMS_URL"):
        if (cfg[key] or key != "HUB_LAB_LMS_URL") and not cfg[key].startswith(("http://", "https://")):
            raise ConfigError(f"{key} must start with http:// or https://, got {cfg[key]!r}")
    cfg.setdefault("HUB_STATE_DIR", str(Path(app.instance_path) / "hub"))
    cfg.setdefault("OIDC_HUB_CLIENT_ID", "jupyterhub")
    redirects = cfg.setdefault("OIDC_HUB_REDIRECT_URIS", [cfg["HUB_PUBLIC_URL"] + "/hub/oauth_callback"])
    if isinstance(redirects, str):
        cfg["OIDC_HUB_REDIRECT_URIS"] = [u.strip() for u in redirects.split(",") if u.strip()]
    wanted = {"HUB_API_TOKEN": "lms_api_token", "HUB_SPEC_SECRET": "lab_spec_secret",
              "OIDC_HUB_CLIENT_SECRET": "oidc_client_secret"}
    if not all(cfg.get(k) for k in wanted):
        from virtual_lab.hub.secrets import load_or_create

        generated = load_or_create(cfg["HUB_STATE_DIR"])
        for key, name in wanted.items():
            if not cfg.get(key):
                cfg[key] = generated[name]
    if len(cfg["HUB_SPEC_SECRET"]) < 16:
        raise ConfigError("HUB_SPEC_SECRET is too short (at least 16 characters)")
    app.extensions["nia.hub_settings"] = True
