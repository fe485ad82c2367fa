"""Operations behind the lab pages: settings, the line provider, start/stop through the service, SSE from MQTT."""
from __future__ import annotations

import json
import queue
import time
from pathlib import Path
from typing import Any, Iterator

from flask import Flask, current_app
from flask_babel import gettext as _

from lms.config import ConfigError

from . import settings as lab_settings
from .broker import credentials_for, trainee_name

SSE_CHANNELS = ("status", "state", "counters", "telemetry", "energy", "events")


def configure(app: Flask) -> None:
    cfg = app.config
    try:
        s = lab_settings.load()
    except lab_settings.SettingsError as error:
        raise ConfigError(str(error)) from None
    cfg.setdefault("MQTT_HOST", s.mqtt_host)
    cfg.setdefault("MQTT_PORT", s.mqtt_port)
    cfg.setdefault("MQTT_PUBLIC_HOST", s.mqtt_public_host)
    cfg.setdefault("LAB_STATE_DIR", str(s.state_dir))
    cfg.setdefault("LAB_CREDENTIAL_SECRET", s.credential_secret)
    cfg.setdefault("SIM_CONTROL_PORT", s.control_port)
    cfg.setdefault("LAB_SERVICE_URL", "" if cfg.get("TESTING") else f"http://{s.control_host}:{s.control_port}")
    cfg.setdefault("LAB_SERVICE_TOKEN", s.control_token)
    cfg.setdefault("LAB_DEFAULT_SCENARIO", "normal-shift")
    cfg.setdefault("LAB_SSE_MAX_SECONDS", 300)
    for key in ("MQTT_PORT", "SIM_CONTROL_PORT", "LAB_SSE_MAX_SECONDS"):
        try:
            cfg[key] = int(cfg[key])
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be a whole number, got {cfg[key]!r}") from None
    if not 1 <= cfg["MQTT_PORT"] <= 65535:
        raise ConfigError(f"MQTT_PORT must be a port number, got {cfg['MQTT_PORT']}")
    from .scenarios import ScenarioError, load_scenario

    try:
        load_scenario(cfg["LAB_DEFAULT_SCENARIO"])
    except ScenarioError as error:
        raise ConfigError(f"LAB_DEFAULT_SCENARIO: {error}") from None


def settings_from(cfg) -> lab_settings.Settings:
    return lab_settings.load(mqtt_host=cfg["MQTT_HOST"], mqtt_port=cfg["MQTT_PORT"],
                             mqtt_public_host=cfg["MQTT_PUBLIC_HOST"], state_dir=Path(cfg["LAB_STATE_DIR"]),
                             credential_secret=cfg["LAB_CREDENTIAL_SECRET"])


def _service():
    from .control import ServiceClient

    cfg = current_app.config
    if not cfg["LAB_SERVICE_URL"]:
        return None
    token = cfg["LAB_SERVICE_TOKEN"]
    if not token:
        path = Path(cfg["LAB_STATE_DIR"]) / "control-token"
        token = path.read_text().strip() if path.exists() else ""
    return ServiceClient(cfg["LAB_SERVICE_URL"], token, timeout=5)


def seed_for(user_id: int, scenario: str) -> int:
    """The same seed source as the lab launch and grading's replay (lms.labs.line_seed), so restarting a lab's
    scenario here keeps the data the trainee's submission is graded on."""
    from lms.labs import line_seed

    return line_seed(user_id, scenario)


def health() -> dict[str, Any]:
    from .control import ServiceError

    service = _service()
    if service is None:
        return {"status": "disabled"}
    try:
        return {"status": "ok", "lines": service.health().get("lines")}
    except ServiceError as error:
        return {"status": "down", "error": str(error)}


def line_provider(user_id: int, spec, seed: int):
    """For the lab launcher: start the trainee's line with the lab's scenario and return their MQTT access."""
    from lms.labs import LineAccess

    service = _service()
    if service is None:
        return None
    trainee = trainee_name(user_id)
    service.start_line(trainee, spec.scenario or current_app.config["LAB_DEFAULT_SCENARIO"], int(seed))
    creds = credentials_for(trainee, settings_from(current_app.config))
    return LineAccess(mqtt_host=creds["host"], mqtt_port=creds["port"], username=creds["username"],
                      password=creds["password"], topic_prefix=creds["topic_prefix"], seed=int(seed))


def page_context(user) -> dict[str, Any]:
    from .control import ServiceError
    from .scenarios import list_scenarios

    trainee = trainee_name(user.id)
    info, error = None, None
    service = _service()
    if service is None:
        error = _("The simulator service is not configured (LAB_SERVICE_URL).")
    else:
        try:
            info = service.line(trainee)
        except ServiceError as problem:
            if problem.status != 404:
                error = _("The simulator service is not reachable right now. Try again in a minute.")
    creds = credentials_for(trainee, settings_from(current_app.config))
    return {"trainee": trainee, "line": info, "service_error": error, "credentials": creds,
            "scenarios": list_scenarios(), "default_scenario": current_app.config["LAB_DEFAULT_SCENARIO"]}


def start_own_line(user, scenario: str) -> tuple[bool, str]:
    from .control import ServiceError
    from .scenarios import list_scenarios

    if scenario not in {s["name"] for s in list_scenarios()}:
        return False, _("Unknown scenario.")
    service = _service()
    if service is None:
        return False, _("The simulator service is not configured.")
    try:
        service.start_line(trainee_name(user.id), scenario, seed_for(user.id, scenario))
    except ServiceError as error:
        current_app.logger.warning("start line for user %s failed: %s", user.id, error)
        return False, _("The line could not be started: the simulator service is unavailable.")
    return True, _("Your line is running.")


def stop_own_line(user) -> tuple[bool, str]:
    from .control import ServiceError

    service = _service()
    if service is None:
        return False, _("The simulator service is not configured.")
    try:
        service.stop_line(trainee_name(user.id))
    except ServiceError as error:
        if error.status == 404:
            return False, _("Your line is not running.")
        return False, _("The simulator service is unavailable.")
    return True, _("Your line was stopped.")


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def sse_events(user_id: int, cfg) -> Iterator[str]:
    """Relay the trainee's own topics, read from the broker with the trainee's own credentials."""
    from .client import LabClient
    from .transport import ConnectError

    creds = credentials_for(trainee_name(user_id), settings_from(cfg))
    creds["host"] = cfg["MQTT_HOST"]
    client = LabClient(**creds)
    yield "retry: 3000\n\n"
    try:
        client.connect(timeout=5)
        client.subscribe("#")
    except ConnectError as error:
        yield _sse("problem", {"message": str(error)})
        return
    prefix_len = len(creds["topic_prefix"]) + 1
    deadline = time.monotonic() + cfg["LAB_SSE_MAX_SECONDS"]
    last_beat = time.monotonic()
    try:
        while time.monotonic() < deadline:
            try:
                topic, payload, _retain, _raw = client._queue.get(timeout=1.0)
            except queue.Empty:
                if time.monotonic() - last_beat > 15:
                    last_beat = time.monotonic()
                    yield ": keep-alive\n\n"
                continue
            channel = topic.rsplit("/", 1)[-1]
            if channel in SSE_CHANNELS:
                yield _sse("msg", {"path": topic[prefix_len:], "payload": payload})
    finally:
        client.close()
