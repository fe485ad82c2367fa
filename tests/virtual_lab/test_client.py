"""Notebook client (env configuration, pandas records, offline replay) and `python -m virtual_lab serve` end to end."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from virtual_lab import client as lab
from virtual_lab.broker.process import free_port, wait_port
from virtual_lab.control import ServiceClient


def test_offline_replay_gives_pandas_friendly_rows(monkeypatch):
    monkeypatch.setenv("NIA_MQTT_USERNAME", "pia")
    rows = lab.replay("smoke", seed=1, duration_s=30, channels=["telemetry"])
    assert rows and {r["channel"] for r in rows} == {"telemetry"}
    assert rows[0]["topic"].startswith("nia/v1/pia/") and rows[0]["machine"] == "moulder"
    df = lab.frame(rows)
    assert len(df) == 150 and {"time", "machine", "temperature_c", "vibration_mm_s", "power_kw"} <= set(df.columns)
    assert str(df["time"].dt.tz) == "UTC"
    status = lab.flatten("nia/v1/pia/tko/plant-a/line-1/status", {"online": True})
    assert status["machine"] is None and status["channel"] == "status"


def test_connect_from_environment(lab_service, lab_broker, monkeypatch):
    from virtual_lab.broker import credentials_for

    _broker, settings = lab_broker
    creds = credentials_for("rita", settings)
    for key in ("host", "port", "username", "password", "topic_prefix"):
        monkeypatch.setenv(f"NIA_MQTT_{key.upper()}", str(creds[key]))
    lab_service.start_line("rita", "smoke", 1)
    with lab.connect_from_env() as client:
        rows = client.collect(1.0, channels=("telemetry",))
    assert rows and all(r["topic"].startswith("nia/v1/rita/") for r in rows)
    monkeypatch.setenv("NIA_MQTT_PASSWORD", "wrong")
    with pytest.raises(lab.ConnectError):
        lab.connect_from_env(timeout=5)


def test_serve_runs_broker_service_and_control_channel(tmp_path):
    mqtt_port, control_port = free_port(), free_port()
    token = "serve-test-token-0123456789abcdef"
    env = {**os.environ, "NIA_MQTT_PORT": str(mqtt_port), "NIA_SIM_CONTROL_PORT": str(control_port),
           "NIA_LAB_STATE_DIR": str(tmp_path / "lab"), "NIA_MQTT_BROKER": "embedded",
           "NIA_SIM_CONTROL_TOKEN": token, "NIA_LAB_CREDENTIAL_SECRET": "serve-secret"}
    process = subprocess.Popen([sys.executable, "-m", "virtual_lab", "serve", "--speed", "20"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_port("127.0.0.1", control_port, 30, process)
        service = ServiceClient(f"http://127.0.0.1:{control_port}", token)
        assert service.start_line("sam", "smoke", 5)["trainee"] == "sam"
        from virtual_lab import settings
        from virtual_lab.broker import credentials_for

        creds = credentials_for("sam", settings.load(mqtt_port=mqtt_port, state_dir=tmp_path / "lab",
                                                     credential_secret="serve-secret"))
        with lab.LabClient(**creds) as client:
            ack = client.command("tko/plant-a/line-1/packer", "stop")
        assert ack["ok"] is True
        time.sleep(0.3)
        assert service.ground_truth("sam")["commands"][0]["topic"].endswith("/packer/cmd/stop")
        service.stop_line("sam")
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "broker embedded" in output
