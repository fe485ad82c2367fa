"""The multi-tenant service and its HTTP control channel (ServiceClient), plus the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

import virtual_lab
from virtual_lab.broker.process import free_port
from virtual_lab.control import ServiceClient, ServiceError, make_server, serve_in_thread
from virtual_lab.service import LabService, LineError

from tests.fixtures.virtual_lab import MOSQUITTO, has_mosquitto
from virtual_lab.transport import MemoryBus, MemoryTransport

TOKEN = "control-token-for-tests-0123456789"


@pytest.fixture
def memory_service():
    bus = MemoryBus()
    service = LabService(transport_factory=lambda line: MemoryTransport(line, bus), default_speed=200).start()
    service.bus = bus
    yield service
    service.close()


@pytest.fixture
def control(memory_service):
    port = free_port()
    server = make_server(memory_service, "127.0.0.1", port, TOKEN)
    serve_in_thread(server)
    yield ServiceClient(f"http://127.0.0.1:{port}", TOKEN), port
    server.shutdown()
    server.server_close()


def test_many_lines_run_side_by_side(memory_service):
    for i in range(20):
        memory_service.start_line(f"t{i}", "smoke", i)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and min(l["t_ms"] for l in memory_service.lines()) < 5000:
        time.sleep(0.05)
    lines = memory_service.lines()
    assert len(lines) == 20 and min(l["t_ms"] for l in lines) >= 5000
    topics = {r["topic"].split("/")[2] for r in memory_service.bus.records}
    assert topics == {f"t{i}" for i in range(20)}


def test_service_stream_is_the_replay(memory_service):
    memory_service.start_line("uma", "smoke", 8, duration_s=50)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and memory_service.lines():
        time.sleep(0.05)
    records = [r for r in memory_service.bus.records if r["payload"] != {"online": False}]
    assert records == virtual_lab.replay("smoke", seed=8, trainee="uma", duration_s=50)


def test_control_channel_start_stop_and_ground_truth(control):
    client, _port = control
    assert client.health()["status"] == "ok"
    info = client.start_line("vera", "smoke", 3)
    assert info["trainee"] == "vera" and info["topic_root"] == "nia/v1/vera/tko/plant-a/line-1"
    assert client.start_line("vera", "smoke", 3)["seed"] == 3  # idempotent
    deadline = time.monotonic() + 15
    while client.line("vera")["t_ms"] < 70_000 and time.monotonic() < deadline:
        time.sleep(0.05)  # the micro-stop at 60 s has happened
    truth = client.ground_truth("vera")
    assert truth["seed"] == 3 and truth["ground_truth"][0]["kind"] == "micro_stop"
    assert [l["trainee"] for l in client.lines()] == ["vera"]
    stopped = client.stop_line("vera")
    assert stopped["trainee"] == "vera" and client.lines() == []
    with pytest.raises(ServiceError) as error:
        client.stop_line("vera")
    assert error.value.status == 404


@pytest.mark.parametrize("body, status", [
    ({"trainee": "w", "scenario": "nope", "seed": 1}, 400),
    ({"trainee": "Bad/Name", "scenario": "smoke", "seed": 1}, 400),
    ({"trainee": "w", "scenario": "smoke", "seed": "1"}, 400),
    ({"trainee": "w", "scenario": "smoke", "seed": 1, "speed": 0}, 400),
])
def test_control_channel_rejects_bad_requests(control, body, status):
    client, _ = control
    with pytest.raises(ServiceError) as error:
        client._call("POST", "/lines", json=body)
    assert error.value.status == status


def test_control_channel_needs_the_token(control):
    _client, port = control
    for token in ("", "wrong-token-wrong-token"):
        with pytest.raises(ServiceError) as error:
            ServiceClient(f"http://127.0.0.1:{port}", token).lines()
        assert error.value.status == 401
    with pytest.raises(ServiceError, match="unreachable"):
        ServiceClient(f"http://127.0.0.1:{free_port()}", TOKEN, timeout=2).lines()
    with pytest.raises(ValueError):
        make_server(LabService(), "127.0.0.1", 0, "short")


def test_stop_unknown_line_raises(memory_service):
    with pytest.raises(LineError):
        memory_service.stop_line("nobody")


def test_broker_down_is_a_503_not_a_crash(tmp_path):
    from virtual_lab import settings

    s = settings.load(mqtt_port=free_port(), state_dir=tmp_path, credential_secret="x")
    service = LabService(s).start()
    port = free_port()
    server = make_server(service, "127.0.0.1", port, TOKEN)
    serve_in_thread(server)
    try:
        with pytest.raises(ServiceError) as error:
            ServiceClient(f"http://127.0.0.1:{port}", TOKEN).start_line("zed", "smoke", 1)
        assert error.value.status == 503 and "broker unavailable" in str(error.value)
        assert service.lines() == []
    finally:
        server.shutdown()
        server.server_close()
        service.close()


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "virtual_lab", *args], capture_output=True, text=True, timeout=60)


def test_cli_scenarios_replay_and_ground_truth(tmp_path):
    listing = run_cli("scenarios")
    assert listing.returncode == 0 and "oee-known-shift" in listing.stdout and "known answer" in listing.stdout
    out = tmp_path / "line.jsonl"
    result = run_cli("replay", "--scenario", "smoke", "--seed", "2", "--trainee", "xena", "--duration", "30",
                     "-o", str(out))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == [{"t_ms": r["t_ms"], "topic": r["topic"], "payload": r["payload"]}
                    for r in virtual_lab.replay("smoke", seed=2, trainee="xena", duration_s=30)]
    truth = run_cli("ground-truth", "--scenario", "smoke", "--seed", "2", "--trainee", "xena", "--duration", "100")
    assert truth.returncode == 0 and json.loads(truth.stdout)[0]["kind"] == "micro_stop"
    bad = run_cli("replay", "--scenario", "nope", "--seed", "1", "--trainee", "x", "--duration", "1")
    assert bad.returncode == 2 and "unknown scenario" in bad.stderr


def _listening(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.mosquitto
@pytest.mark.skipif(not has_mosquitto, reason="mosquitto binary not installed")
def test_failed_serve_start_leaves_no_broker_behind(tmp_path):
    """A start that fails after the broker is up (here: a control token too short) stops that broker again
    (mosquitto runs in its own session, so it would outlive the failed `serve`)."""
    import os

    mqtt_port, control_port = free_port(), free_port()
    env = {**os.environ, "NIA_MQTT_PORT": str(mqtt_port), "NIA_SIM_CONTROL_PORT": str(control_port),
           "NIA_LAB_STATE_DIR": str(tmp_path), "NIA_SIM_CONTROL_TOKEN": "short", "NIA_MQTT_BROKER": "mosquitto",
           "NIA_MQTT_MOSQUITTO_BIN": MOSQUITTO}
    done = subprocess.run([sys.executable, "-m", "virtual_lab", "serve"], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode != 0
    assert not _listening(mqtt_port), "the broker started before the failure is still running"


@pytest.mark.mosquitto
@pytest.mark.skipif(not has_mosquitto, reason="mosquitto binary not installed")
def test_broker_refuses_a_port_someone_else_answers_on(tmp_path):
    """Otherwise the readiness probe finds the other listener and a failed start looks like a success."""
    import socket

    from virtual_lab import settings
    from virtual_lab.broker import start_broker

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        s = settings.load(mqtt_port=port, state_dir=tmp_path, credential_secret="x", mosquitto_bin=MOSQUITTO)
        with pytest.raises(RuntimeError, match="already in use"):
            start_broker(s, "mosquitto")
