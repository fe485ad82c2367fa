"""Broker management and per-trainee credentials.

`start_broker()` runs our own mosquitto on our own port (NIA_MQTT_PORT, default 18830) or, without mosquitto, the
embedded amqtt broker; both use the same generated password file (PBKDF2-SHA512 hashes) and ACL (each trainee
reads nia/v1/<self>/# and writes only nia/v1/<self>/+/+/+/+/cmd/+). `credentials_for(trainee)` registers the
trainee and returns the connection details for that trainee's lab alone.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import settings as lab_settings
from ..topics import PREFIX, trainee_root, valid_name
from . import passwords
from .acl import acl_text

__all__ = ["credentials_for", "service_credentials", "start_broker", "trainee_name", "revoke"]


def trainee_name(user_id: int) -> str:
    """The trainee's MQTT user name and topic level for an LMS user id."""
    return f"u{int(user_id)}"


def _settings(settings: lab_settings.Settings | None) -> lab_settings.Settings:
    return settings or lab_settings.load()


def _register(s: lab_settings.Settings, username: str) -> str:
    secret = passwords.secret_for(s.state_dir, s.credential_secret)
    password = passwords.derive_password(secret, username)
    if passwords.ensure_users(s.state_dir / "passwd", {username: password}):
        from .mosquitto import reload_from_state

        reload_from_state(s.state_dir)
    return password


def credentials_for(trainee: str, settings: lab_settings.Settings | None = None) -> dict[str, Any]:
    """{host, port, username, password, topic_prefix} for this trainee only (hand it to the trainee's lab)."""
    if not valid_name(trainee) or trainee == _settings(settings).service_username:
        raise ValueError(f"invalid trainee name {trainee!r}")
    s = _settings(settings)
    password = _register(s, trainee)
    return {"host": s.mqtt_public_host, "port": s.mqtt_port, "username": trainee, "password": password,
            "topic_prefix": trainee_root(trainee, PREFIX)}


def service_credentials(settings: lab_settings.Settings | None = None) -> dict[str, Any]:
    s = _settings(settings)
    return {"host": s.mqtt_host, "port": s.mqtt_port, "username": s.service_username,
            "password": _register(s, s.service_username), "topic_prefix": PREFIX}


def revoke(trainee: str, settings: lab_settings.Settings | None = None) -> bool:
    s = _settings(settings)
    removed = passwords.remove_user(s.state_dir / "passwd", trainee)
    if removed:
        from .mosquitto import reload_from_state

        reload_from_state(s.state_dir)
    return removed


def start_broker(settings: lab_settings.Settings | None = None, kind: str | None = None):
    """Start the broker chosen by NIA_MQTT_BROKER (auto = mosquitto when installed, else embedded)."""
    from .embedded import EmbeddedBroker
    from .mosquitto import MosquittoBroker

    s = _settings(settings)
    kind = kind or s.broker
    s.state_dir.mkdir(parents=True, exist_ok=True)
    service_credentials(s)
    acl = acl_text(s.service_username)
    if kind == "auto":
        kind = "mosquitto" if MosquittoBroker.available(s.mosquitto_bin) else "embedded"
    if kind == "mosquitto":
        if not MosquittoBroker.available(s.mosquitto_bin):
            raise RuntimeError(f"mosquitto not found at {s.mosquitto_bin} (apt-get install mosquitto, or "
                               "NIA_MQTT_BROKER=embedded)")
        return MosquittoBroker(host=s.mqtt_host, port=s.mqtt_port, state_dir=s.state_dir, acl=acl,
                               binary=s.mosquitto_bin).start()
    return EmbeddedBroker(host=s.mqtt_host, port=s.mqtt_port, state_dir=s.state_dir, acl=acl).start()


def state_path(settings: lab_settings.Settings | None = None) -> Path:
    return _settings(settings).state_dir
