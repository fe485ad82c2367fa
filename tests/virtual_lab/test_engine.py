"""Engine: determinism, known-answer OEE, fault injection and ground truth, schemas (offline, no broker)."""
from __future__ import annotations

import pytest

import virtual_lab
from virtual_lab import schemas
from virtual_lab.engine import Line, run
from virtual_lab.scenarios import ScenarioError, list_scenarios, load_scenario
from virtual_lab.topics import encode


def _bytes(records):
    return [(r["topic"], r["t_ms"], encode(r["payload"])) for r in records]


def test_same_inputs_give_byte_identical_streams():
    a = virtual_lab.replay("smoke", seed=42, trainee="alice", duration_s=600)
    b = virtual_lab.replay("smoke", seed=42, trainee="alice", duration_s=600)
    assert len(a) > 3000
    assert _bytes(a) == _bytes(b)


def test_seed_and_trainee_change_the_stream_but_not_the_structure():
    base = virtual_lab.replay("smoke", seed=42, trainee="alice", duration_s=120)
    other_seed = virtual_lab.replay("smoke", seed=43, trainee="alice", duration_s=120)
    other_trainee = virtual_lab.replay("smoke", seed=42, trainee="bob", duration_s=120)
    assert _bytes(base) != _bytes(other_seed)
    assert [r["payload"] for r in base] != [r["payload"] for r in other_trainee]
    assert all(r["topic"].startswith("nia/v1/bob/") for r in other_trainee)


def test_known_answer_shift_oee_from_the_stream():
    answer = load_scenario("oee-known-shift")["known_answer"]
    records = virtual_lab.replay("oee-known-shift", seed=7, trainee="carol", duration_s=28800)
    packer = "nia/v1/carol/tko/plant-a/line-1/packer"
    states = [(r["t_ms"], r["payload"]["state"]) for r in records if r["topic"] == packer + "/state"]
    run_ms = 0
    for (t, state), (t_next, _) in zip(states, states[1:] + [(28_800_000, None)]):
        run_ms += (t_next - t) if state == "Execute" else 0
    counters = [r["payload"] for r in records if r["topic"] == packer + "/counters"][-1]
    total = counters["good_total"] + counters["bad_total"]
    assert run_ms / 1000 == answer["run_time_s"]
    assert total == answer["total_count"] and counters["good_total"] == answer["good_count"]
    oee = counters["good_total"] * 10.0 / answer["planned_time_s"]
    assert oee == pytest.approx(answer["oee"], abs=1e-12)
    truth = virtual_lab.kpis("oee-known-shift", seed=7, trainee="carol", duration_s=28800)["packer"]
    for key in ("availability", "performance", "quality", "oee"):
        assert truth[key] == pytest.approx(answer[key], abs=1e-9)


def test_known_answer_holds_for_every_trainee_while_fault_times_differ():
    a = virtual_lab.ground_truth("oee-known-shift", seed=1, trainee="dave", duration_s=28800)
    b = virtual_lab.ground_truth("oee-known-shift", seed=2, trainee="dave", duration_s=28800)
    assert [g["t_ms"] for g in a] != [g["t_ms"] for g in b]
    assert virtual_lab.kpis("oee-known-shift", seed=2, trainee="dave", duration_s=28800)["packer"]["oee"] == \
        pytest.approx(0.7125)


def test_ground_truth_matches_what_the_line_shows():
    records = virtual_lab.replay("smoke", seed=5, trainee="erin", duration_s=600)
    truth = virtual_lab.ground_truth("smoke", seed=5, trainee="erin", duration_s=600)
    kinds = {g["kind"]: g for g in truth}
    assert set(kinds) == {"micro_stop", "breakdown", "sensor_spike"}
    brk = kinds["breakdown"]
    assert brk["machine"] == "cnc" and brk["reason_code"] == 202 and brk["end_ms"] - brk["t_ms"] == 90_000
    cnc_states = [r for r in records if r["topic"].endswith("/cnc/state")]
    aborting = [r for r in cnc_states if r["payload"]["state"] == "Aborting"]
    assert aborting[0]["t_ms"] == brk["t_ms"] and aborting[0]["payload"]["reason_code"] == 202
    back = [r for r in cnc_states if r["t_ms"] > brk["t_ms"] and r["payload"]["state"] == "Execute"][0]
    assert back["t_ms"] == brk["end_ms"]
    spike = kinds["sensor_spike"]
    reading = [r["payload"]["vibration_mm_s"] for r in records
               if r["topic"].endswith("/moulder/telemetry") and r["t_ms"] == spike["t_ms"]][0]
    assert reading > 4.0  # 5 mm/s spike on a ~2 mm/s signal
    alarms = [r for r in records if r["topic"].endswith("/cnc/events")]
    assert alarms and alarms[0]["payload"]["kind"] == "alarm"


def test_sensor_dropout_stuck_and_wear(scenario_dir):
    (scenario_dir / "faulty.yaml").write_text(
        "duration_s: 900\nfaults:\n"
        "  - {kind: sensor_dropout, machine: cnc, sensor: spindle_current_a, at_s: 100, duration_s: 50}\n"
        "  - {kind: sensor_stuck, machine: moulder, sensor: temperature_c, at_s: 200, duration_s: 100}\n"
        "  - {kind: wear, machine: packer, at_s: 10, failure_after_s: 600, repair_s: 60}\n")
    records = virtual_lab.replay("faulty", seed=1, trainee="fay", duration_s=900)
    current = {r["t_ms"] // 1000: r["payload"]["spindle_current_a"] for r in records
               if r["topic"].endswith("/cnc/telemetry")}
    assert all(current[t] is None for t in range(100, 150)) and current[99] is not None and current[150] is not None
    temps = [r["payload"]["temperature_c"] for r in records
             if r["topic"].endswith("/moulder/telemetry") and 200 <= r["t_ms"] // 1000 < 300]
    assert len(set(temps)) == 1
    vib = {r["t_ms"] // 1000: r["payload"]["vibration_mm_s"] for r in records if r["topic"].endswith("/packer/telemetry")}
    early = sum(vib[t] for t in range(20, 80)) / 60
    late = sum(vib[t] for t in range(540, 600)) / 60
    assert late > 2.5 * early
    truth = virtual_lab.ground_truth("faulty", seed=1, trainee="fay", duration_s=900)
    failure = [g for g in truth if g["kind"] == "breakdown"][0]
    assert failure["reason_code"] == 204 and failure["t_ms"] == 610_000 and failure["source"] == "wear"


def test_connection_loss_goes_offline_and_rebirths(scenario_dir):
    (scenario_dir / "netloss.yaml").write_text(
        "duration_s: 120\nfaults:\n  - {kind: connection_loss, at_s: 30, duration_s: 20}\n")
    records = virtual_lab.replay("netloss", seed=1, trainee="gus", duration_s=120)
    status = [(r["t_ms"], r["payload"]) for r in records if r["topic"].endswith("/status")]
    assert status[1] == (30_000, {"online": False})
    assert status[2][0] == 50_000 and status[2][1]["online"] is True
    assert not [r for r in records if 30_000 < r["t_ms"] < 50_000]
    seqs = [r["payload"]["seq"] for r in records if "seq" in r["payload"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    meta_after = [r for r in records if r["t_ms"] == 50_000 and r["topic"].endswith("/meta")]
    assert len(meta_after) == 5


def test_every_payload_matches_its_channel_schema():
    records = virtual_lab.replay("smoke", seed=3, trainee="hal", duration_s=300)
    seen = set()
    for record in records:
        schemas.validate(record["topic"], record["payload"])
        seen.add(record["topic"].rsplit("/", 1)[-1])
    assert {"status", "meta", "state", "counters", "telemetry", "energy", "events"} <= seen


def test_scenarios_are_listed_and_bad_files_rejected(scenario_dir):
    names = {s["name"] for s in list_scenarios()}
    assert {"oee-known-shift", "normal-shift", "quality-drift", "bearing-wear", "sensor-faults",
            "connection-loss", "smoke"} <= names
    (scenario_dir / "broken.yaml").write_text("faults:\n  - {kind: meteor, machine: cnc, at_s: 1}\n")
    with pytest.raises(ScenarioError, match="kind"):
        load_scenario("broken")
    with pytest.raises(ScenarioError, match="unknown scenario"):
        virtual_lab.replay("no-such", seed=1, trainee="x", duration_s=1)
    with pytest.raises(ScenarioError, match="invalid scenario name"):
        load_scenario("../etc/passwd")
    with pytest.raises(ValueError, match="invalid trainee"):
        Line("smoke", seed=1, trainee="a/b")


def test_quality_drift_moves_the_measured_dimension():
    truth = virtual_lab.ground_truth("quality-drift", seed=9, trainee="ivy", duration_s=28800)
    drift = [g for g in truth if g["kind"] == "quality_drift"][0]
    line = run("quality-drift", seed=9, trainee="ivy", duration_s=28800)
    dims = [(r["t_ms"], r["payload"]["part_dimension_mm"]) for r in line.records
            if r["topic"].endswith("/cnc/telemetry") and "part_dimension_mm" in r["payload"]]
    before = [d for t, d in dims if t < drift["t_ms"]]
    after = [d for t, d in dims if t > drift["t_ms"] + 1_200_000]
    assert sum(after) / len(after) - sum(before) / len(before) == pytest.approx(0.03, abs=0.005)
