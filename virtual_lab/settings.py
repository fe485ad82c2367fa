"""Settings of the lab processes (service, broker, client), read from the environment with NIA_ names.

The Flask side reads the same names through app.config (LAB_/MQTT_/SIM_ prefixes, see web.py); these processes
run without Flask, so they read os.environ directly. Defaults never use the standard ports (1883 etc.).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class SettingsError(ValueError):
    """A lab setting is invalid; the message names it."""


def _port(name: str, default: int) -> int:
    value = os.environ.get(f"NIA_{name}", str(default)).strip()
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise SettingsError(f"NIA_{name} must be a port number (1-65535), got {value!r}")
    return int(value)


@dataclass
class Settings:
    mqtt_host: str
    mqtt_port: int
    mqtt_public_host: str
    broker: str  # auto | mosquitto | embedded
    mosquitto_bin: str
    state_dir: Path
    credential_secret: str
    service_username: str
    control_host: str
    control_port: int
    control_token: str


def load(**overrides) -> Settings:
    """Settings from the environment; keyword overrides (tests, embedding) win."""
    import dataclasses

    return dataclasses.replace(_from_env(), **overrides)


def _from_env() -> Settings:
    env = os.environ.get
    broker = env("NIA_MQTT_BROKER", "auto")
    if broker not in ("auto", "mosquitto", "embedded"):
        raise SettingsError(f"NIA_MQTT_BROKER must be auto, mosquitto or embedded, got {broker!r}")
    state = Path(env("NIA_LAB_STATE_DIR") or Path.cwd() / "var" / "lab").resolve()
    host = env("NIA_MQTT_HOST", "127.0.0.1")
    return Settings(
        mqtt_host=host, mqtt_port=_port("MQTT_PORT", 18830), mqtt_public_host=env("NIA_MQTT_PUBLIC_HOST", host),
        broker=broker, mosquitto_bin=env("NIA_MQTT_MOSQUITTO_BIN", "/usr/sbin/mosquitto"), state_dir=state,
        credential_secret=env("NIA_LAB_CREDENTIAL_SECRET", ""), service_username=env("NIA_MQTT_SERVICE_USERNAME", "nia-sim"),
        control_host=env("NIA_SIM_CONTROL_HOST", "127.0.0.1"), control_port=_port("SIM_CONTROL_PORT", 18831),
        control_token=env("NIA_SIM_CONTROL_TOKEN", ""))
