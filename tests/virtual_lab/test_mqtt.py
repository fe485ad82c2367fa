"""Live lines through real brokers (embedded amqtt always, our own mosquitto when installed): isolation,
credentials, commands and acks, last will, and live stream == offline replay."""
from __future__ import annotations

import json
import time

import pytest

import virtual_lab
from virtual_lab.broker import credentials_for
from virtual_lab.broker.passwords import read_file
from virtual_lab.client import ConnectError, LabClient
from virtual_lab.topics import encode

LINE = "tko/plant-a/line-1"


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def capture_until_offline(client: LabClient, timeout: float = 30.0):
    """Raw messages until the line's final offline status (the service publishes it when the line ends)."""
    got, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = client.messages(0.2, raw=True)
        got.extend(batch)
        if any(t.endswith("/status") and json.loads(d) == {"online": False} for t, d, _ in batch):
            return got
    raise AssertionError(f"line did not finish within {timeout} s ({len(got)} messages)")


def test_live_stream_equals_offline_replay(lab_service, lab_client):
    watcher = lab_client("lena")
    assert watcher.subscribe("#")
    lab_service.start_line("lena", "smoke", 11, speed=100, duration_s=60)
    live = capture_until_offline(watcher)
    assert live[-1][0].endswith("/status") and json.loads(live[-1][1]) == {"online": False}
    live = live[:-1]
    expected = [(r["topic"], encode(r["payload"])) for r in
                virtual_lab.replay("smoke", seed=11, trainee="lena", duration_s=60)]
    by_seq = sorted(((t, d) for t, d, _ in live), key=lambda m: json.loads(m[1])["seq"])
    assert len(by_seq) == len(expected) > 300
    assert by_seq == expected  # same topics, byte-identical payloads


def test_trainees_cannot_read_or_write_each_other(lab_service, lab_client):
    alice, alice_watch, bob_watch = lab_client("alice"), lab_client("alice"), lab_client("bob")
    alice.subscribe(f"nia/v1/bob/#")
    alice.subscribe("nia/v1/+/tko/#")
    alice._client.subscribe("#", qos=1)
    assert alice_watch.subscribe("#") and bob_watch.subscribe("#")
    lab_service.start_line("bob", "smoke", 1)
    lab_service.start_line("alice", "smoke", 1)
    assert wait_for(lambda: lab_service.line_info("bob")["t_ms"] >= 3000)
    spoof = json.dumps({"ts_ms": 1, "seq": 1, "spoofed": True})
    for topic in (f"nia/v1/bob/{LINE}/cnc/cmd/stop", f"nia/v1/bob/{LINE}/cnc/telemetry",
                  f"nia/v1/alice/{LINE}/cnc/telemetry", f"nia/v1/alice/{LINE}/cnc/state",
                  f"nia/v1/alice/{LINE}/cnc/cmd/stop/ack", "nia/v1/alice/x"):
        alice._client.publish(topic, spoof, qos=1)
    time.sleep(1.5)
    seen_by_alice = alice.messages(0.3, raw=True) + alice_watch.messages(0.3, raw=True)
    seen_by_bob = bob_watch.messages(0.3, raw=True)
    assert any("/alice/" in t for t, _, _ in seen_by_alice)  # she does get her own line
    assert not [t for t, _, _ in seen_by_alice if "/alice/" not in t]
    assert any(t.endswith("/telemetry") for t, _, _ in seen_by_bob)
    assert not [t for t, d, _ in seen_by_alice + seen_by_bob if b"spoofed" in d]
    assert lab_service.ground_truth("bob")["commands"] == []
    assert lab_service.line_info("bob")["t_ms"] > 0


def test_wrong_credentials_are_refused_and_passwords_stored_hashed(lab_broker):
    _broker, settings = lab_broker
    creds = credentials_for("quinn", settings)
    assert creds["topic_prefix"] == "nia/v1/quinn" and creds["port"] == settings.mqtt_port
    for override in ({"password": "wrong"}, {"username": "nobody"}, {"username": "", "password": ""},
                     {"username": "nia-sim", "password": creds["password"]}):
        with pytest.raises(ConnectError):
            LabClient(**{**creds, **override}).connect(5)
    LabClient(**creds).connect(5).close()
    stored = read_file(settings.state_dir / "passwd")
    assert stored["quinn"].startswith("$7$") and creds["password"] not in (settings.state_dir / "passwd").read_text()
    assert credentials_for("quinn", settings)["password"] == creds["password"]  # stable for the trainee's labs
    assert credentials_for("rosa", settings)["password"] != creds["password"]
    with pytest.raises(ValueError):
        credentials_for("nia-sim", settings)


def test_bad_commands_get_nacks_and_the_line_keeps_running(lab_service, lab_client):
    lab_service.start_line("mia", "smoke", 2)
    client = lab_client("mia")
    machine = f"{LINE}/cnc"
    ack = client.command(machine, "start")
    assert ack["ok"] is False and "illegal transition" in ack["reason"]
    assert "malformed JSON" in client.command(machine, "setpoint", b"{bad")["reason"]
    assert "unknown verb" in client.command(machine, "teleport")["reason"]
    assert "out of range" in client.command(machine, "setpoint", {"name": "speed_pct", "value": 1000})["reason"]
    assert client.command(machine, "hold")["ok"] is True
    rows = client.collect(1.0, channels=("telemetry", "state"))
    assert any(r["channel"] == "telemetry" for r in rows)
    log = lab_service.ground_truth("mia")["commands"]
    assert [c["topic"].rsplit("/", 1)[-1] for c in log] == ["start", "setpoint", "teleport", "setpoint", "hold"]


def test_connection_loss_publishes_the_last_will(lab_service, lab_client, scenario_dir):
    (scenario_dir / "netloss.yaml").write_text(
        "duration_s: 60\nfaults:\n  - {kind: connection_loss, at_s: 5, duration_s: 10}\n")
    watcher = lab_client("nico")
    watcher.subscribe(f"{LINE}/status")
    lab_service.start_line("nico", "netloss", 1, speed=10)
    statuses = []
    assert wait_for(lambda: statuses.extend(json.loads(d) for _, d, _ in watcher.messages(0.1, raw=True))
                    or len(statuses) >= 3, timeout=20)
    assert statuses[0]["online"] is True and statuses[1] == {"online": False} and statuses[2]["online"] is True


def test_browse_lists_the_namespace(lab_service, lab_client):
    lab_service.start_line("olga", "smoke", 1)
    client = lab_client("olga")
    tree = client.browse(1.0)
    machines = tree["tko"]["plant-a"]["line-1"]
    assert {"moulder", "cnc", "assembly", "vision-qc", "packer", "status"} <= set(machines)
    assert {"meta", "state", "counters"} <= set(machines["cnc"])
