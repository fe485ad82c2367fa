"""Course mqtt-basics ("IIoT and MQTT foundations"): each lab's authoring check (solution full marks, release zero)
through the grading facade with the arguments of `flask labs check` (and that the CLI passes them); a plausible mistake
per lab graded in the sandbox scores partial or zero; the solutions hold for other trainees, whose answers differ;
the embedded broker keeps the isolation the security lab proves; the course validates and imports."""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from sqlalchemy import select

COURSE = Path(__file__).resolve().parents[2] / "courses" / "mqtt-basics"
LABS = ("read-the-line", "command-the-line", "prove-isolation")
OTHER_TRAINEE = {"seed": 7, "trainee": "u77"}


def _cells(lab: str) -> list:
    return nbformat.read(COURSE / "labs" / lab / f"{lab}.ipynb", as_version=4).cells


def _grade_id(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


def _with_answers(lab: str, answers: dict[str, str]) -> bytes:
    """The source notebook with some answer cells replaced (what a trainee with a plausible mistake submits)."""
    nb = nbformat.read(COURSE / "labs" / lab / f"{lab}.ipynb", as_version=4)
    for cell in nb.cells:
        if _grade_id(cell) in answers:
            cell.source = answers[_grade_id(cell)]
    return nbformat.writes(nb).encode()


# -- sandboxed grading ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built_labs():
    """Every lab built once with exactly what `flask labs check` passes: this IS the authoring check."""
    from grading import labspec, operations, sandbox
    from grading.facade import CourseGrader

    project = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory(prefix="nia-mqtt-basics-") as tmp:
        built = {}
        for lab in LABS:
            spec = labspec.load_lab(COURSE / "labs" / lab)
            grader = CourseGrader(Path(tmp) / lab, "mqtt-basics", extra_ro=sandbox.extra_readonly_paths(project))
            env = {"NIA_LAB_SCENARIO": spec.scenario, "NIA_LAB_TRAINEE": "author",
                   "NIA_LAB_DURATION_S": str(spec.duration_s)}
            outcome = grader.build(spec.slug, spec.directory, spec.notebooks, seed=operations.AUTHOR_SEED, env=env,
                                   time_limit_s=spec.time_limit_s, memory_mb=spec.memory_mb)
            built[lab] = (grader, spec, outcome)
        yield built


def _grade(built_labs, lab: str, notebook: bytes):
    grader, spec, _outcome = built_labs[lab]
    env = {"NIA_LAB_SCENARIO": spec.scenario, "NIA_LAB_TRAINEE": OTHER_TRAINEE["trainee"],
           "NIA_LAB_DURATION_S": str(spec.duration_s), "NIA_LAB": f"mqtt-basics/{lab}"}
    return grader.grade(spec.slug, "trainee-mistake", {lab: notebook}, seed=OTHER_TRAINEE["seed"], env=env,
                        time_limit_s=spec.time_limit_s, memory_mb=spec.memory_mb)


@pytest.mark.slow
@pytest.mark.bwrap
@pytest.mark.parametrize("lab,points", [("read-the-line", 10), ("command-the-line", 8), ("prove-isolation", 6)])
def test_authoring_check_solution_full_marks_release_zero(built_labs, lab, points):
    _grader, spec, outcome = built_labs[lab]
    assert outcome["points"] == points  # build() raised if a cell missed full marks or the release scored
    assert spec.time_limit_s <= 60 and outcome["duration_s"] < 2 * spec.time_limit_s


def test_labs_check_cli_mounts_the_virtual_lab(app, monkeypatch):
    """`flask labs check` builds with the read-only virtual_lab package mounted, as grading does (every lab here
    imports it). The sandboxed build itself is the `built_labs` fixture; here a recording grader stands in."""
    import grading.facade
    from grading import sandbox

    seen: dict = {}

    class RecordingGrader:
        def __init__(self, root, course, *, allow_unsafe=False, extra_ro=None, **_kwargs):
            seen["course"], seen["extra_ro"] = course, extra_ro

        def build(self, slug, directory, notebooks, **kwargs):
            seen["env"] = kwargs["env"]
            return {"points": 8.0}

    monkeypatch.setattr(grading.facade, "CourseGrader", RecordingGrader)
    result = app.test_cli_runner().invoke(args=["labs", "check", str(COURSE / "labs" / "command-the-line")])
    assert result.exit_code == 0 and "mqtt-basics/command-the-line: ok (8 points)" in result.output, result.output
    assert seen["course"] == "mqtt-basics" and seen["env"]["NIA_LAB_SCENARIO"] == "changeover-order"
    assert seen["extra_ro"] == sandbox.extra_readonly_paths(COURSE.parents[1]) != []


READ_MISTAKES = {
    "answer-snapshot": '''
def line_snapshot(messages):
    snapshot = {}
    for topic, payload in messages:
        levels = topic.split("/")
        if len(levels) != 8 or levels[7] not in ("state", "counters"):
            continue
        data = json.loads(payload)
        entry = snapshot.setdefault(levels[6], {"good": 0, "bad": 0})
        if levels[7] == "state":
            entry["state"] = data["state"]
        else:  # adds up running totals
            entry["good"] += data["good_total"]
            entry["bad"] += data["bad_total"]
    return snapshot
''',
    "answer-stops": '''
def stops_by_reason(messages):
    counts = {}
    for topic, payload in messages:
        if topic.endswith("/state"):  # every state change with a reason, not one event per stop
            code = json.loads(payload)["reason_code"]
            if code:
                counts[code] = counts.get(code, 0) + 1
    return counts
''',
}

COMMAND_MISTAKE = {"answer-plan": '''
def changeover_plan(prefix, order):
    base = f"{prefix}/{LINE}/{order['machine']}/cmd"
    stop_at, window = order["stop_at_s"], order["stopped_for_s"]
    steps = [(stop_at, "stop", {}), (stop_at + 2, "setpoint", {"name": "speed_pct", "value": order["speed_pct"]}),
             (stop_at + window, "reset", {}), (stop_at + window, "start", {})]  # start finds it still Resetting
    return [{"t_ms": t * 1000, "topic": f"{base}/{verb}", "payload": {**body, "id": f"wo-{i}"}}
            for i, (t, verb, body) in enumerate(steps, 1)]
'''}

ISOLATION_MISTAKES = {
    "answer-read": '''
def can_read(settings, topic_filter, wait_s=1.0):
    client = _connected(settings)
    try:
        result, _mid = client.subscribe(topic_filter, qos=1)
        return result == mqtt.MQTT_ERR_SUCCESS  # the request was sent, which says nothing about the SUBACK
    finally:
        _close(client)
''',
    "answer-delivered": '''
def delivered(sender, observer, topic, wait_s=1.0):
    publisher = _connected(sender)
    try:
        info = publisher.publish(topic, json.dumps({"id": uuid.uuid4().hex}), qos=1)
        info.wait_for_publish(5.0)
        return info.is_published()  # a PUBACK is not delivery
    finally:
        _close(publisher)
''',
}


@pytest.mark.slow
@pytest.mark.bwrap
@pytest.mark.parametrize("lab,mistakes,expected,failing", [
    ("read-the-line", READ_MISTAKES, 6, {"test-snapshot-values", "test-stops"}),
    ("command-the-line", COMMAND_MISTAKE, 4, {"test-plan-acks", "test-plan-window", "test-plan-speed"}),
    ("prove-isolation", ISOLATION_MISTAKES, 2, {"test-read", "test-delivered"}),
])
def test_plausible_mistake_gets_partial_credit_below_the_pass_mark(built_labs, lab, mistakes, expected, failing):
    result = _grade(built_labs, lab, _with_answers(lab, mistakes))
    assert result.max_score == built_labs[lab][2]["points"]
    assert result.score == expected, [(c["grade_id"], c["score"], c["error"]) for c in result.cells]
    assert 0 < result.score < 0.7 * result.max_score
    assert {c["grade_id"] for c in result.cells if c["score"] < c["max_score"]} == failing
    feedback = json.dumps(result.feedback)
    assert "BEGIN HIDDEN TESTS" not in feedback and "_expected" not in feedback


# -- the notebooks in-process for other trainees (trusted code: our own solutions) -----------------------------
def _run_lab(lab: str, monkeypatch, seed: int, trainee: str) -> dict:
    """Run every code cell except the live one, hidden tests included; returns the namespace."""
    monkeypatch.setenv("NIA_LAB_SEED", str(seed))
    monkeypatch.setenv("NIA_LAB_TRAINEE", trainee)
    for name in ("NIA_LAB_SCENARIO", "NIA_LAB_DURATION_S", "MQTT_HOST", "NIA_MQTT_HOST"):
        monkeypatch.delenv(name, raising=False)
    namespace: dict = {"print": lambda *args, **kwargs: None}
    try:
        for cell in _cells(lab):
            if cell.cell_type == "code" and _grade_id(cell) != "live":
                exec(compile(cell.source, f"{lab}:{_grade_id(cell)}", "exec"), namespace)  # noqa: S102
    finally:
        if "BROKER" in namespace:
            namespace["BROKER"].stop()
    return namespace


@pytest.mark.parametrize("seed,trainee", [(1, "u1"), (31337, "u2048")])
def test_reading_and_command_solutions_pass_for_other_trainees(monkeypatch, seed, trainee):
    for lab in ("read-the-line", "command-the-line"):
        _run_lab(lab, monkeypatch, seed, trainee)  # raises AssertionError if a test cell fails


def test_each_trainee_gets_different_answers(monkeypatch):
    first, second = (_run_lab("read-the-line", monkeypatch, s, t) for s, t in ((3, "u3"), (4, "u4")))
    answers = [(ns["line_snapshot"](ns["MESSAGES"]), ns["stops_by_reason"](ns["MESSAGES"]),
                ns["offline_seconds"](ns["MESSAGES"])) for ns in (first, second)]
    assert all(a != b for a, b in zip(*answers))
    orders = [_run_lab("command-the-line", monkeypatch, s, "u9")["ORDER"] for s in (3, 4)]
    assert orders[0] != orders[1]


@pytest.mark.slow
def test_isolation_solution_passes_for_another_trainee(monkeypatch):
    namespace = _run_lab("prove-isolation", monkeypatch, 4242, "u31")
    assert namespace["NEIGHBOUR"] != "u31" and 20000 <= namespace["PORT"] <= 20999


def test_embedded_broker_gives_no_retained_messages_of_other_trainees(tmp_path):
    """The isolation the security lab proves: amqtt 0.12.1 replayed other clients' retained topics on CONNECT."""
    from virtual_lab.broker import passwords
    from virtual_lab.broker.acl import acl_text
    from virtual_lab.broker.embedded import EmbeddedBroker
    from virtual_lab.transport import connect, make_client, subscribe

    port = 20000 + int(time.monotonic_ns() % 1000)
    users = {"alice": "alice-secret-1", "bob": "bob-secret-22", "nia-sim": "service-secret-333"}
    passwords.ensure_users(tmp_path / "passwd", users)
    broker = EmbeddedBroker(host="127.0.0.1", port=port, state_dir=tmp_path, acl=acl_text("nia-sim")).start()
    clients = []
    try:
        def client(name: str, on_message=None):
            made = make_client(f"{name}-{len(clients)}", name, users[name])
            made.on_message = on_message
            connect(made, "127.0.0.1", port)
            clients.append(made)
            return made

        sim = client("nia-sim")
        for topic in ("nia/v1/bob/tko/plant-a/line-1/status", "nia/v1/alice/tko/plant-a/line-1/status"):
            sim.publish(topic, b'{"online":true}', qos=1, retain=True).wait_for_publish(5)
        assert subscribe(client("bob"), "nia/v1/bob/#")  # bob's own filter now exists on the broker
        got: list[str] = []
        alice = client("alice", lambda _c, _u, message: got.append(message.topic))
        time.sleep(0.5)
        assert got == []  # alice subscribed to nothing, so she gets nothing: not bob's retained status
        assert subscribe(alice, "nia/v1/alice/#") and not subscribe(alice, "nia/v1/bob/#")
        time.sleep(0.5)
        assert got == ["nia/v1/alice/tko/plant-a/line-1/status"]
    finally:
        for made in clients:
            made.disconnect()
            made.loop_stop()
        broker.stop()


# -- the course itself --------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("release_session")
def test_course_validates_and_imports(app, courses_cli):
    from grading.models import Lab
    from lms.extensions import db
    from lms.models import Course
    from virtual_lab.scenarios import load_scenario

    assert courses_cli("validate", COURSE).exit_code == 0
    result = courses_cli("import", COURSE)
    assert result.exit_code == 0, result.output
    assert "mqtt-basics: 4 modules, 9 lessons, 1 quizzes, 25 questions, 3 labs" in result.output
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "mqtt-basics"))
        labs = {lab.slug: lab for lab in db.session.scalars(select(Lab).where(Lab.course_id == course.id))}
        assert course.title == "IIoT and MQTT foundations" and course.completion["labs"] == "all"
        assert [m.slug for m in course.modules] == ["publish-subscribe", "reliable-delivery",
                                                    "reading-and-commanding", "securing-mqtt"]
        assert course.translations["zh_Hant"]["title"] and course.translations["zh_Hans"]["title"]
        assert {a["framework"] for a in course.achievement["alignments"]} >= {"OASIS MQTT", "ISA/IEC 62443"}
        assert sorted(labs) == sorted(LABS)
        for lab in labs.values():
            assert load_scenario(lab.scenario)["duration_s"] >= lab.duration_s
            assert lab.seed_policy == "per-trainee" and lab.time_limit_s <= 60
