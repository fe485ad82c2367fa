"""Course 3 of issue 7, AI for maintenance: the course files validate and import, the two scenarios its labs use
behave as the labs need, the labs' hidden tests reject plausible mistakes and tricks, and each lab passes the
authoring check in the sandbox while a plausible mistake scores partial credit."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import virtual_lab
from tests.courses.labkit import CourseLabs, import_course, set_lab_env, validate_broken_copy

pytestmark = pytest.mark.usefixtures("release_session")

COURSE = Path(__file__).resolve().parents[2] / "courses" / "ai-maintenance"
LABS = CourseLabs(COURSE)
ANOMALY_LAB, PDM_LAB = "sensor-anomalies", "bearing-lead-time"

# Plausible mistakes, each replacing one whole answer cell of a lab.
GLOBAL_ZSCORE_DETECTOR = '''
def detect_anomalies(tel):
    """Flag readings more than 4 standard deviations from the shift mean of their sensor."""
    found = []
    for machine, rows in tel.groupby("machine", sort=True):
        for sensor in SENSORS:
            x = rows[sensor]
            if x.isna().all():
                continue
            z = ((x - x.mean()) / x.std()).abs()
            start = end = None
            for t in rows["t_s"][z > 4]:
                if end is not None and t - end <= 5:
                    end = t
                    continue
                if end is not None:
                    found.append((machine, sensor, int(start), int(end)))
                start = end = t
            if end is not None:
                found.append((machine, sensor, int(start), int(end)))
    return found
'''

OVERLAP_SCORING = '''
def event_scores(detections, truth, tolerance_s=5):
    """Counts any overlap as a hit (the rule the lab warns against)."""
    def hits(d, e):
        return d[0] == e[0] and d[1] == e[1] and d[2] <= e[3] + tolerance_s and d[3] >= e[2] - tolerance_s
    good = sum(1 for d in detections if any(hits(d, e) for e in truth))
    caught = sum(1 for e in truth if any(hits(d, e) for d in detections))
    p = good / len(detections) if detections else 0.0
    r = caught / len(truth) if truth else 0.0
    return {"precision": float(p), "recall": float(r), "f1": float(2 * p * r / (p + r) if p + r else 0.0),
            "false_alarms": len(detections) - good}
'''

STRAIGHT_LINE_RUL = '''
def estimate_rul_s(tel):
    """A straight line through the last 30 minutes of the indicator, extrapolated to 5 x the baseline."""
    hi = health_indicator(tel)
    baseline = hi[hi.index <= hi.index[0] + 1800].median()
    now = float(tel["t_s"].iloc[-1])
    recent = hi[hi.index >= now - 1800]
    slope, level = np.polyfit(np.asarray(recent.index, dtype=float) - now, recent.to_numpy(), 1)
    return float((5 * baseline - level) / slope)
'''

ISO_ZONE_ALERT = '''
def first_alert_s(tel):
    """Alert when the 5-minute median of the indicator enters ISO 10816-3 zone D (4.5 mm/s, group 2 rigid)."""
    smooth = health_indicator(tel).rolling(5, min_periods=3).median()
    above = smooth.index[smooth > 4.5]
    return float(above[0]) if len(above) else None
'''

BLIND_ALERT = '''
def first_alert_s(tel):
    """Alerts at a fixed time of the shift, whatever the data says."""
    return 6000.0 if tel["t_s"].max() >= 6000 else None
'''


# -- course files ---------------------------------------------------------------------------------------------

def test_course_validates_and_imports(app, courses_cli):
    course, lessons, questions, (quiz,) = import_course(app, courses_cli, COURSE)
    assert set(course.translations) >= {"zh_Hant", "zh_Hans"}
    assert lessons == 6
    assert len(questions) >= 15 and all(q.explanation.strip() for q in questions)
    assert {q.kind for q in questions} == {"single", "multiple", "numeric", "text"}
    assert quiz.draw_count == 10 and quiz.pass_mark == 70


def test_bad_quiz_answer_is_refused_with_its_file_and_line(tmp_path, courses_cli):
    result = validate_broken_copy(tmp_path, courses_cli, COURSE, {
        "quizzes/maintenance-ai-check.yaml": ("answer: 165", "answer: soon")})
    assert result.exit_code == 1 and "maintenance-ai-check.yaml:" in result.output


# -- scenarios --------------------------------------------------------------------------------------------------

def test_sensor_fault_scenario_is_seeded_and_never_announced():
    records = virtual_lab.replay("sensor-faults-shift", seed=11, trainee="u11", duration_s=14400)
    truth = virtual_lab.ground_truth("sensor-faults-shift", seed=11, trainee="u11", duration_s=14400)
    faults = [g for g in truth if g["kind"].startswith("sensor_")]
    assert len(faults) == 12
    assert {g["kind"] for g in faults} == {"sensor_stuck", "sensor_dropout", "sensor_spike"}
    offsets = [g for g in faults if g["kind"] == "sensor_spike" and g["end_ms"] - g["t_ms"] > 1000]
    assert {g["sensor"] for g in offsets} == {"temperature_c"}, "the offsets are on temperature sensors"
    events = [r["payload"] for r in records if r["topic"].endswith("/events")]
    assert all(e["reason_code"] in (301, 302, 303) for e in events), "only the random micro-stops are announced"
    other = virtual_lab.ground_truth("sensor-faults-shift", seed=12, trainee="u11", duration_s=14400)
    assert [g["t_ms"] for g in other if g["kind"].startswith("sensor_")] != [g["t_ms"] for g in faults]


@pytest.mark.parametrize("seed,trainee", [(1, "u1"), (4242, "u99")])
def test_bearing_scenario_fails_within_the_lab_replay(seed, trainee):
    truth = virtual_lab.ground_truth("moulder-bearing-wear", seed=seed, trainee=trainee, duration_s=18000)
    wear = [g for g in truth if g["kind"] == "wear"]
    stop = [g for g in truth if g.get("source") == "wear"]
    assert len(wear) == len(stop) == 1 and wear[0]["machine"] == stop[0]["machine"] == "moulder"
    assert 2400 <= wear[0]["t_ms"] / 1000 <= 4800 and 9000 <= wear[0]["failure_after_s"] <= 12000
    assert stop[0]["reason_code"] == 204 and stop[0]["t_ms"] >= wear[0]["t_ms"] + wear[0]["failure_after_s"] * 1000


# -- lab 1: the hidden tests against plausible mistakes (in process: fast) -------------------------------------

def test_reference_detector_scores_well_and_naive_detectors_do_not(monkeypatch):
    set_lab_env(monkeypatch, "sensor-faults-shift", 2024, "u9", 14400)
    ns = LABS.run_cells(ANOMALY_LAB, ["setup", "answer-scores", "answer-detect"])
    tel, truth, score = ns["TEL"], ns["TRUTH"], ns["event_scores"]
    assert score(ns["detect_anomalies"](tel), truth)["f1"] >= 0.9
    naive = LABS.run_cells(ANOMALY_LAB, ["answer-detect"], {"answer-detect": GLOBAL_ZSCORE_DETECTOR}, dict(ns))
    assert score(naive["detect_anomalies"](tel), truth)["f1"] < 0.4
    everything = [(m, s, 0, 14399) for m, rows in tel.groupby("machine") for s in ns["SENSORS"]
                  if not rows[s].isna().all()]
    assert score(everything, truth) == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "false_alarms": len(everything)}


def test_overlap_scoring_passes_the_example_but_not_the_hidden_test(monkeypatch):
    set_lab_env(monkeypatch, "sensor-faults-shift", 7, "u3", 14400)
    sources = LABS.sources(ANOMALY_LAB)
    ns = {"SEED": 7}
    LABS.run_cells(ANOMALY_LAB, ["answer-scores", "test-scores-example"], {"answer-scores": OVERLAP_SCORING}, ns)
    with pytest.raises(AssertionError, match="only a detection's start counts"):
        exec(compile(sources["test-scores"], "test-scores", "exec"), ns)  # noqa: S102 - our own notebook


# -- lab 2: the hidden tests against plausible mistakes (in process) --------------------------------------------

def test_alert_mistakes_lose_the_right_points(monkeypatch):
    set_lab_env(monkeypatch, "moulder-bearing-wear", 777, "u12", 18000)
    ns = LABS.run_cells(PDM_LAB, ["setup", "answer-hi", "answer-alert", "answer-rul", "test-alert-valid", "test-lead-110"])
    assert ns["_lead"] >= 110 * 60
    iso = LABS.run_cells(PDM_LAB, ["answer-alert", "test-alert-valid", "test-lead-60"], {"answer-alert": ISO_ZONE_ALERT}, ns)
    assert 60 * 60 <= iso["_lead"] < 110 * 60, "the ISO zone alert is valid but late"
    with pytest.raises(AssertionError, match="at least 110 min needed"):
        LABS.run_cells(PDM_LAB, ["test-lead-110"], namespace=iso)
    LABS.run_cells(PDM_LAB, ["answer-alert"], {"answer-alert": BLIND_ALERT}, ns)
    with pytest.raises(AssertionError, match="alerts on a healthy shift"):
        LABS.run_cells(PDM_LAB, ["test-alert-valid"], namespace=ns)


# -- the live cells, against a running line ---------------------------------------------------------------------

@pytest.mark.parametrize("lab_broker", ["embedded"], indirect=True)  # both brokers: tests/virtual_lab
def test_live_cells_read_the_trainees_running_line(lab_service, lab_broker, monkeypatch, capsys):
    """In JupyterHub (MQTT_* set by the launcher) the ungraded live cells run the trainee's functions on live data."""
    import os
    import re

    import numpy
    import pandas

    from virtual_lab.broker import credentials_for

    _broker, settings = lab_broker
    creds = credentials_for("lia", settings)
    for key in ("host", "port", "username", "password", "topic_prefix"):
        monkeypatch.setenv(f"MQTT_{key.upper()}", str(creds[key]))
    constants = {"os": os, "np": numpy, "pd": pandas, "MACHINE": "moulder",  # as the locked setup cells define them
                 "SENSORS": ["temperature_c", "vibration_mm_s", "pressure_bar", "spindle_current_a", "current_a"],
                 "SIGNALS": ["temperature_c", "vibration_mm_s", "pressure_bar", "power_kw"]}
    for lab, scenario, answers, expected in (
            (ANOMALY_LAB, "sensor-faults-shift", ["answer-scores", "answer-detect"],
             r"\d+ live readings; detections: \["),
            (PDM_LAB, "moulder-bearing-wear", ["answer-hi"], r"\n\d+\s+\d+\.\d+")):
        lab_service.start_line("lia", scenario, 3, speed=100)
        ns = LABS.run_cells(lab, answers, None, dict(constants))
        source = LABS.sources(lab)["live"]
        quick = re.sub(r"collect\((60|120)\.0", "collect(4.0", source)
        assert quick != source, "the live cell's collection time was not found"
        exec(compile(quick, f"{lab}:live", "exec"), ns)  # noqa: S102 - our own notebook
        printed = capsys.readouterr().out
        assert re.search(expected, printed), printed


# -- the authoring check and a mistake graded in the sandbox ---------------------------------------------------

@pytest.mark.slow
@pytest.mark.bwrap
def test_anomaly_lab_check_and_global_zscore_mistake(app, tmp_path):
    """A global z-score detector: the scoring task keeps its points, every F1 band is lost."""
    mistake = LABS.with_answers(ANOMALY_LAB, {"answer-detect": GLOBAL_ZSCORE_DETECTOR})
    built, [(result, cells)] = LABS.check_and_grade(app, tmp_path, ANOMALY_LAB, [(mistake, 5151, "u77")])
    assert built["points"] == 9
    assert 0 < result.score < result.max_score == 9
    assert cells["test-scores-example"] == 1 and cells["test-scores"] == 2 and cells["test-detect-shape"] == 1
    assert cells["test-f1-band-1"] == cells["test-f1-band-2"] == cells["test-f1-band-3"] == 0
    feedback = json.dumps(result.feedback)
    assert "on the second shift; the lower one must reach 0.4" in feedback


@pytest.mark.slow
@pytest.mark.bwrap
def test_maintenance_lab_check_and_straight_line_rul_mistake(app, tmp_path):
    """A straight-line RUL: alert and lead-time points stay, the 15 % RUL band is lost."""
    mistake = LABS.with_answers(PDM_LAB, {"answer-rul": STRAIGHT_LINE_RUL})
    built, [(result, cells)] = LABS.check_and_grade(app, tmp_path, PDM_LAB, [(mistake, 5151, "u77")])
    assert built["points"] == 13
    assert 0 < result.score < result.max_score == 13
    assert cells["test-alert-valid"] == 2 and cells["test-lead-110"] == 2 and cells["test-rul-shape"] == 1
    assert cells["test-rul-15"] == 0
    assert "too long - the trend accelerates, a straight line overestimates the life" in json.dumps(result.feedback)
