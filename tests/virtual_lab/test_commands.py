"""PackML transitions and command validation through the engine's command path (offline)."""
from __future__ import annotations

import json

import pytest

from virtual_lab.engine import Line

BASE = "nia/v1/kim/tko/plant-a/line-1"


@pytest.fixture
def line():
    line = Line("smoke", seed=1, trainee="kim")
    line.start()
    return line


def send(line, machine, verb, payload=b"{}"):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    line.submit(f"{BASE}/{machine}/cmd/{verb}", raw)
    records = line.step()
    acks = [r["payload"] for r in records if r["topic"].endswith("/ack")]
    assert len(acks) == 1
    return acks[0], records


def state(line, machine):
    return line.by_name[machine].state


def test_full_packml_cycle(line):
    assert state(line, "packer") == "Execute"
    ack, _ = send(line, "packer", "hold")
    assert ack["ok"] and state(line, "packer") == "Holding"
    line.step()
    assert state(line, "packer") == "Held"
    assert send(line, "packer", "unhold")[0]["ok"]
    line.step()
    assert state(line, "packer") == "Execute"
    assert send(line, "packer", "suspend")[0]["ok"]
    line.step()
    assert state(line, "packer") == "Suspended"
    assert send(line, "packer", "unsuspend")[0]["ok"]
    line.step()
    assert send(line, "packer", "stop")[0]["ok"] and state(line, "packer") == "Stopping"
    line.step()
    assert state(line, "packer") == "Stopped" and line.by_name["packer"].reason == 501
    assert send(line, "packer", "reset")[0]["ok"]
    line.step()
    assert state(line, "packer") == "Idle"
    assert line.by_name["packer"].counters["good"] == 0  # counters since reset
    assert send(line, "packer", "start")[0]["ok"]
    line.step()
    assert state(line, "packer") == "Execute"
    assert send(line, "packer", "abort")[0]["ok"]
    line.step()
    assert state(line, "packer") == "Aborted"
    assert send(line, "packer", "clear")[0]["ok"]
    line.step()
    assert state(line, "packer") == "Stopped"


@pytest.mark.parametrize("verb", ["start", "unhold", "unsuspend", "clear", "reset"])
def test_illegal_transitions_are_refused_and_line_keeps_running(line, verb):
    ack, records = send(line, "cnc", verb)
    assert ack["ok"] is False and "illegal transition" in ack["reason"] and ack["verb"] == verb
    assert state(line, "cnc") == "Execute"
    assert any(r["topic"].endswith("/telemetry") for r in records)


@pytest.mark.parametrize("payload, reason", [
    (b"{not json", "malformed JSON"),
    (b"\xff\xfe", "malformed JSON"),
    (b"[1, 2]", "JSON object"),
    (b"x" * 5000, "too large"),
    ({"name": "speed_pct", "value": 500}, "out of range"),
    ({"name": "speed_pct", "value": "fast"}, "must be a number"),
    ({"name": "speed_pct", "value": True}, "must be a number"),
    ({"name": "temperature", "value": 10}, "unknown setpoint"),
])
def test_bad_setpoints_and_payloads(line, payload, reason):
    ack, records = send(line, "cnc", "setpoint", payload)
    assert ack["ok"] is False and reason in ack["reason"]
    assert line.by_name["cnc"].speed_pct == 100.0
    assert any(r["topic"].endswith("/telemetry") for r in records)


def test_unknown_verb_machine_and_mode_rules(line):
    ack, _ = send(line, "cnc", "explode")
    assert not ack["ok"] and "unknown verb" in ack["reason"]
    ack, _ = send(line, "robot", "start")
    assert not ack["ok"] and "unknown machine" in ack["reason"]
    ack, _ = send(line, "cnc", "mode", {"mode": "maintenance"})
    assert not ack["ok"] and "not allowed in state Execute" in ack["reason"]
    send(line, "cnc", "stop")
    line.step()
    ack, _ = send(line, "cnc", "mode", {"mode": "warp"})
    assert not ack["ok"] and "unknown mode" in ack["reason"]
    ack, records = send(line, "cnc", "mode", {"mode": "maintenance", "id": "m1"})
    assert ack["ok"] and ack["id"] == "m1"
    assert [r["payload"]["mode_code"] for r in records if r["topic"].endswith("/cnc/state")] == [2]


def test_valid_setpoint_changes_speed(line):
    ack, records = send(line, "cnc", "setpoint", {"name": "speed_pct", "value": 80})
    assert ack["ok"] and ack["reason"] is None
    assert [r["payload"]["speed_pct"] for r in records if r["topic"].endswith("/cnc/state")] == [80.0]


def test_replaying_the_command_log_reproduces_the_session():
    import virtual_lab

    line = Line("smoke", seed=4, trainee="kim")
    live = line.start()
    for t in range(1, 200):
        if t == 50:
            line.submit(f"{BASE}/assembly/cmd/hold", b"{}")
        if t == 90:
            line.submit(f"{BASE}/assembly/cmd/unhold", b'{"id": 7}')
        live.extend(line.step())
    again = virtual_lab.replay("smoke", seed=4, trainee="kim", duration_s=199, commands=line.command_log)
    assert again == live
