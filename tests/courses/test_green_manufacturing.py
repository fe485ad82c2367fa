"""Course 4 of issue 7, green manufacturing: the course files validate and import, the energy scenario behaves as
the lab needs (two long stoppages, no random faults, closed loop == replay of its command log), each lab passes
the authoring check in the sandbox, and plausible mistakes score partial credit."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import virtual_lab
from tests.courses.labkit import CourseLabs, import_course, validate_broken_copy

pytestmark = pytest.mark.usefixtures("release_session")

COURSE = Path(__file__).resolve().parents[2] / "courses" / "green-manufacturing"
SLUG = COURSE.name
LABS = CourseLabs(COURSE)
ENERGY_LAB, CONTROL_LAB = "energy-per-good-part", "energy-aware-control"


def test_course_validates_and_imports(app, courses_cli):
    course, lessons, questions, _quizzes = import_course(app, courses_cli, COURSE)
    assert lessons == 5
    assert len(questions) >= 15 and all(q.explanation.strip() for q in questions)
    assert {q.kind for q in questions} == {"single", "multiple", "numeric", "text"}


def test_bad_course_file_is_refused_with_its_line(tmp_path, courses_cli):
    result = validate_broken_copy(tmp_path, courses_cli, COURSE, {
        "quizzes/green-check.yaml": ("answer: 400", "answer: four hundred")})
    assert result.exit_code == 1 and "green-check.yaml:" in result.output


def test_energy_scenario_has_two_long_stoppages_and_no_random_faults():
    truth = virtual_lab.ground_truth("energy-idle-shift", seed=17, trainee="u17", duration_s=7200)
    stoppages = [(g["machine"], (g["end_ms"] - g["t_ms"]) / 1000) for g in truth if g["kind"] == "breakdown"]
    assert [m for m, _ in stoppages] == ["packer", "moulder"]
    assert 1500 <= stoppages[0][1] <= 2100 and 900 <= stoppages[1][1] <= 1200
    assert all(g.get("source") != "random" for g in truth)
    other = virtual_lab.ground_truth("energy-idle-shift", seed=18, trainee="u17", duration_s=7200)
    assert [g["t_ms"] for g in other] != [g["t_ms"] for g in truth], "stoppage times must differ per seed"


def test_closed_loop_log_replays_exactly_and_saves_energy(monkeypatch):
    """What the notebook's harness runs is exactly what virtual_lab.replay(..., commands=log) reproduces."""
    env = {"NIA_LAB_SCENARIO": "energy-idle-shift", "NIA_LAB_SEED": "31337", "NIA_LAB_TRAINEE": "u58",
           "NIA_LAB_DURATION_S": "7200"}
    ns = LABS.run_with_env(CONTROL_LAB, ["setup", "harness", "answer-controller"], env, monkeypatch)
    log, result = ns["log"], ns["evaluate"](ns["log"])
    assert log and all(set(entry) == {"t_ms", "topic", "payload"} for entry in log)
    assert result["refused"] == 0 and result["max_speed_pct"] == 100.0
    assert result["output_ratio"] >= 0.98 and result["reduction"] >= 0.045, result

    from virtual_lab.engine import Line

    line = Line("energy-idle-shift", seed=31337, trainee="u58")
    live = line.start()
    pending = sorted(log, key=lambda c: c["t_ms"])
    for _ in range(7200):
        while pending and pending[0]["t_ms"] <= (line.tick_no + 1) * 1000:
            command = pending.pop(0)
            line.submit(command["topic"], command["payload"].encode())
        live.extend(line.step())
    assert live == virtual_lab.replay("energy-idle-shift", seed=31337, trainee="u58", duration_s=7200, commands=log)

    bad = ns["run_closed_loop"]
    with pytest.raises(TypeError, match="a command is"):
        bad(lambda view, memory: ["moulder stop"], duration_s=3)


def test_waiting_energy_matches_the_power_model(monkeypatch):
    """Part A's reference answer: a stopped-to-standby moulder must show less waiting energy than the baseline."""
    env = {"NIA_LAB_SCENARIO": "energy-idle-shift", "NIA_LAB_SEED": "7", "NIA_LAB_TRAINEE": "u3",
           "NIA_LAB_DURATION_S": "7200"}
    ns = LABS.run_with_env(CONTROL_LAB, ["setup", "harness", "answer-waiting"], env, monkeypatch)
    waiting = ns["waiting_kwh"](ns["baseline"])
    # the packer stoppage blocks the moulder for tens of minutes at its 6 kW idle power
    assert 1.0 < waiting["moulder"] < 6.0 * 2100 / 3600
    assert waiting["packer"] < waiting["moulder"]


def test_band_tests_trust_only_their_own_replay(monkeypatch):
    """A notebook that inflates its baseline in place passes the visible checks but not the hidden ones."""
    import sys

    env = {"NIA_LAB_SCENARIO": "energy-idle-shift", "NIA_LAB_SEED": "99", "NIA_LAB_TRAINEE": "u5",
           "NIA_LAB_DURATION_S": "7200"}
    ns = LABS.run_with_env(CONTROL_LAB, ["setup", "harness"], env, monkeypatch)
    ns["controller"] = lambda view, memory: [("moulder", "setpoint", {"name": "speed_pct", "value": 100})] \
        if view["t_s"] == 0 else []
    for record in ns["baseline"]:  # the "trick": double the baseline's meters
        if record["topic"].endswith("/energy"):
            record["payload"]["energy_kwh"] *= 2
    tests = LABS.sources(CONTROL_LAB)
    saved = {name: module for name, module in sys.modules.items() if name.split(".")[0] == "virtual_lab"}
    try:
        exec(tests["test-controller-runs"], ns)  # noqa: S102 - our own notebook's test cell
        assert ns["evaluate"](ns["log"])["reduction"] > 0.4  # what the visible checks see
        with pytest.raises(AssertionError, match="does not confirm your saving"):
            exec(tests["test-band-2"], ns)  # noqa: S102
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] == "virtual_lab"]:
            del sys.modules[name]
        sys.modules.update(saved)


@pytest.mark.slow
@pytest.mark.bwrap
def test_energy_lab_check_and_good_count_mistake(app, tmp_path):
    """Dividing by all parts (good + scrap) instead of good parts: partial credit, the two per-part cells fail."""
    mistake = LABS.with_mistake(ENERGY_LAB, ('good = record["payload"]["good_total"]',
                                             'good = record["payload"]["good_total"] + record["payload"]["bad_total"]'))
    built, [(result, cells)] = LABS.check_and_grade(app, tmp_path, ENERGY_LAB, [(mistake, 5151, "u77")])
    assert built["points"] == 13
    assert 0 < result.score < result.max_score == 13
    assert cells["test-kwh-per-good-part"] == 0 and cells["test-co2e-per-part"] == 0
    assert cells["test-machine-kwh"] == 2 and cells["test-baseline"] == 3


@pytest.mark.slow
@pytest.mark.bwrap
def test_control_lab_check_and_no_dwell_time_mistake(app, tmp_path):
    """Stopping machines the moment they wait: commands are legal, but output drops below 98 % — no band points."""
    mistake = LABS.with_mistake(CONTROL_LAB, ("WAIT_BEFORE_STOP_S = 20 ", "WAIT_BEFORE_STOP_S = 0 "))
    built, [(result, cells)] = LABS.check_and_grade(app, tmp_path, CONTROL_LAB, [(mistake, 5151, "u77")])
    assert built["points"] == 10
    assert result.score == 4 and result.max_score == 10
    assert cells["test-controller-runs"] == 1
    assert cells["test-band-2"] == cells["test-band-3-5"] == cells["test-band-4-5"] == 0
    feedback = json.dumps(result.feedback)
    assert "of the baseline; at least 98 % is needed" in feedback


def test_labs_check_refuses_a_bad_lab_yaml(app, tmp_path):
    """`flask labs check` names the file and setting when a lab's lab.yaml is wrong (before any grading)."""
    import shutil

    target = tmp_path / SLUG / "labs" / CONTROL_LAB
    shutil.copytree(COURSE / "labs" / CONTROL_LAB, target)
    (target / "lab.yaml").write_text("title: T\ntime_limit_s: 9000\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["labs", "check", str(target)])
    assert result.exit_code == 1 and "time_limit_s" in result.output
