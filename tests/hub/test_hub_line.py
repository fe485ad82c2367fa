"""The whole path on loopback with the real pieces: our own MQTT broker (mosquitto when installed, else the embedded
one) and simulator service on free ports, the LMS with the real grading package (sample lab imported and built),
a real JupyterHub. A trainee opens the lab from the LMS; inside her single-user server a kernel reads her own line
and is refused another trainee's; she submits from the LMS lab page, the grading job runs (in-process, in the
bubblewrap sandbox) and the score shows on the LMS page of that submission.
"""
from __future__ import annotations

import json
import os
import re

import pytest
import requests

from lms.extensions import db
from tests.fixtures.grading import COURSE_SLUG, LAB_SLUG, SOLUTION
from tests.fixtures.virtual_lab import has_mosquitto
from tests.hub.conftest import running_line, running_stack
from tests.hub.helpers import run_in_kernel

pytestmark = [pytest.mark.slow, pytest.mark.bwrap]  # grading runs the kernel in bubblewrap
LAB = f"/launch/{COURSE_SLUG}/{LAB_SLUG}"
# mosquitto (own port, password and ACL files) when installed; NIA_TEST_MQTT_BROKER=embedded runs the amqtt one.
BROKER = os.environ.get("NIA_TEST_MQTT_BROKER") or ("mosquitto" if has_mosquitto else "embedded")

# Runs inside the trainee's kernel: only the environment the hub gave it (the lab's own credentials) is used.
KERNEL_CODE = r'''
import json, os, time
import paho.mqtt.client as mqtt

OTHER = %(other)r
env = os.environ
prefix, me = env["MQTT_TOPIC_PREFIX"], env["MQTT_USERNAME"]
other_prefix = prefix[: -len(me)] + OTHER
seen = {"own": [], "other": [], "acks": [], "suback": {}}

def on_message(client, userdata, message):
    if message.topic.endswith("/ack"):
        seen["acks"].append(json.loads(message.payload or b"{}"))
    elif message.topic.startswith(prefix + "/"):
        seen["own"].append((message.topic, bool(message.retain)))
    elif message.topic.startswith(other_prefix + "/"):
        seen["other"].append(message.topic)

def on_subscribe(client, userdata, mid, reason_codes, properties):
    seen["suback"][mid] = [int(getattr(code, "value", code)) for code in reason_codes]

client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="kernel-" + me)
client.username_pw_set(me, env["MQTT_PASSWORD"])
client.on_message, client.on_subscribe = on_message, on_subscribe
client.connect(env["MQTT_HOST"], int(env["MQTT_PORT"]))
client.loop_start()
own_mid = client.subscribe(prefix + "/#", qos=1)[1]
deadline = time.monotonic() + 10
while time.monotonic() < deadline and not any(t.endswith("/meta") for t, _r in seen["own"]):
    time.sleep(0.05)
metas = sorted(t for t, _r in seen["own"] if t.endswith("/meta"))
machine = metas[0][: -len("/meta")]
client.publish(machine + "/cmd/start", json.dumps({"id": "own-1"}), qos=1).wait_for_publish(5)
deadline = time.monotonic() + 10
while time.monotonic() < deadline and not any(a.get("id") == "own-1" for a in seen["acks"]):
    time.sleep(0.05)
other_mid = client.subscribe(other_prefix + "/#", qos=1)[1]
client.publish(machine.replace(prefix, other_prefix, 1) + "/cmd/start", json.dumps({"id": "steal-1"}), qos=1)
time.sleep(2)  # time enough for anything of the other trainee's to arrive, had the broker let it through
client.loop_stop()
client.disconnect()
print(json.dumps({"me": me, "prefix": prefix, "machine": machine, "seed": env["LAB_SEED"],
                  "scenario": env["LAB_SCENARIO"], "own": len(seen["own"]),
                  "own_retained": sum(1 for _t, retained in seen["own"] if retained),
                  "kinds": sorted({t.rsplit("/", 1)[-1] for t, _r in seen["own"]}),
                  "other": seen["other"], "acks": seen["acks"],
                  "own_suback": seen["suback"].get(own_mid), "other_suback": seen["suback"].get(other_mid)}))
'''


def _import_sample_lab(app, course_dir, trainees) -> dict:
    """The grading sample course through the real import signal, built once, the trainees enrolled."""
    from grading import operations, queries
    from grading.models import Lab
    from lms import signals
    from lms.models import Course, Enrolment

    with app.app_context():
        course = Course(slug=COURSE_SLUG, title="Grading sample course")
        db.session.add(course)
        db.session.flush()
        signals.course_imported.send(app, course_dir=course_dir, course=course, session=db.session)
        lab = db.session.scalar(db.select(Lab).where(Lab.slug == LAB_SLUG))
        operations.build_lab(lab)
        for user in trainees:
            db.session.add(Enrolment(user_id=user.id, course_id=course.id, status="active"))
        db.session.commit()
        return {"scenario": lab.scenario, "points": lab.points,
                "seeds": {user.id: queries.trainee_seed(lab, user.id) for user in trainees}}


@pytest.fixture(scope="module")
def line(app_config, grading_course_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("hubline")
    with running_line(root / "lab", BROKER) as (service, settings, lab_config):
        config = {**app_config, **lab_config, "GRADING_DIR": str(root / "grading")}
        with running_stack(config, root / "hub") as stack:
            users = stack.users
            stack.lab = _import_sample_lab(stack.app, grading_course_dir, [users["alice"], users["bob"]])
            stack.service, stack.lab_settings = service, settings
            yield stack


def _post(stack, web, path: str) -> requests.Response:
    page = web.get(stack.lms_url + LAB, timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return web.post(stack.lms_url + path, data={"csrf_token": token}, headers={"Accept": "application/json"},
                    timeout=60, allow_redirects=False)


def _bob_listener(stack):
    """Bob's own client (his credentials): hears the acks his line sends, to prove nobody else commanded it."""
    from virtual_lab.broker import credentials_for
    from virtual_lab.client import LabClient

    creds = credentials_for(f"u{stack.users['bob'].id}", stack.lab_settings)
    creds["host"] = "127.0.0.1"
    client = LabClient(**creds).connect()
    client.subscribe("+/+/+/+/cmd/+/ack")
    return client


def _acks(client, seconds: float) -> list[dict]:
    import queue
    import time

    found, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            topic, payload, _retain, _raw = client._queue.get(timeout=0.2)
        except queue.Empty:
            continue
        if topic.endswith("/ack"):
            found.append(payload)
    return found


def test_launch_reads_own_line_is_refused_others_then_submit_is_graded(line):
    from grading.models import Submission
    from grading.worker import run_job
    from lms.labs.queries import server_name

    stack = line
    alice_id, bob_id = stack.users["alice"].id, stack.users["bob"].id
    alice_seed = stack.lab["seeds"][alice_id]
    with stack.app.test_request_context():
        from flask import url_for

        assert url_for("labs.lab_page", course=COURSE_SLUG, lab=LAB_SLUG) == LAB

    alice = stack.browser("alice")
    assert stack.hub_login(alice).url.endswith("/hub/home")
    page = alice.get(stack.lms_url + LAB, timeout=60)
    assert page.status_code == 200 and "OEE on your own shift" in page.text
    launched = _post(stack, alice, LAB + "/launch")
    assert launched.status_code == 200, launched.text[:300]
    server = server_name(COURSE_SLUG, LAB_SLUG)
    stack.wait_ready(f"u{alice_id}", server)

    # The launch started Alice's line with grading's seed for her (the one its offline replay uses).
    info = stack.service.line_info(f"u{alice_id}")
    assert (info["scenario"], info["seed"]) == (stack.lab["scenario"], alice_seed)
    # Bob's line runs too (retained state and meta under his prefix), started the way his launch would.
    stack.service.start_line(f"u{bob_id}", stack.lab["scenario"], stack.lab["seeds"][bob_id])
    bob = _bob_listener(stack)
    try:
        base = f"{stack.hub_url}/user/u{alice_id}/{server}"
        seen = json.loads(run_in_kernel(base, stack.service_headers, KERNEL_CODE % {"other": f"u{bob_id}"}))
        stolen = _acks(bob, 1.0)
        own_control = bob.command(seen["machine"][len(seen["prefix"]) + 1:], "start", {"id": "bob-1"})
        stolen += _acks(bob, 0.3)
    finally:
        bob.close()

    assert seen["me"] == f"u{alice_id}" and seen["prefix"].endswith(f"/u{alice_id}")
    assert (seen["seed"], seen["scenario"]) == (str(alice_seed), stack.lab["scenario"])
    assert seen["own_retained"] > 0 and {"meta", "state"} <= set(seen["kinds"]), seen
    assert any(a.get("id") == "own-1" for a in seen["acks"]), seen  # her own command is answered
    assert seen["other"] == [], seen                                  # not one of Bob's messages reached her
    assert [a for a in seen["acks"] if a.get("id") == "steal-1"] == []
    assert [a for a in stolen if a.get("id") == "steal-1"] == [], stolen  # Bob's line never got it...
    assert own_control["id"] == "bob-1"                                     # ...while Bob's own command is answered

    # Alice works in her lab: the staged release notebook with her answer, saved through the contents API.
    contents = f"{base}/api/contents/{LAB_SLUG}.ipynb"
    notebook = requests.get(contents, headers=stack.service_headers, timeout=30).json()["content"]
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "answers":
            cell["source"] = SOLUTION
    saved = requests.put(contents, headers=stack.service_headers, timeout=30,
                         json={"type": "notebook", "format": "json", "content": notebook})
    assert saved.status_code == 200, saved.text[:300]

    submitted = _post(stack, alice, LAB + "/submit")
    assert submitted.status_code == 202, submitted.text[:300]
    receipt = submitted.json()
    assert receipt["status"] == "queued"
    with stack.app.app_context():
        submission = db.session.get(Submission, receipt["submission_id"])
        assert submission.user_id == alice_id and submission.seed == alice_seed
        job_id = submission.jobs[-1].id
        assert run_job(job_id, "hub-test-worker") == "graded"
    result = alice.get(stack.lms_url + receipt["url"], timeout=30)
    points = f"{stack.lab['points']:g}"
    assert result.status_code == 200 and f"{points} / {points}" in result.text, result.text[-2000:]
    status = alice.get(f"{stack.lms_url}{receipt['url']}/status", timeout=30).json()
    assert status["status"] == "graded" and status["score"] == stack.lab["points"]
    # ...and from the lab page she launched from, through its link to her submissions and grades.
    lab_page = alice.get(stack.lms_url + LAB, timeout=30).text
    results = re.search(r'href="([^"]+)">Your submissions, grades and feedback', lab_page).group(1)
    listing = alice.get(stack.lms_url + results, timeout=30).text
    assert receipt["url"] in listing and f"{points} / {points}" in listing

    # Bob may not look at Alice's submission through the LMS either.
    assert stack.browser("bob").get(stack.lms_url + receipt["url"], timeout=30).status_code == 404


def test_submit_from_inside_the_lab_prints_the_grade_and_a_terminal_is_rate_limited(line, monkeypatch):
    """`%submit` in Alice's kernel (loaded at kernel start) queues her saved notebook and prints the grade once the
    worker has graded it; `nia-submit` in a JupyterLab terminal straight after is refused by the rate limit."""
    import threading
    import time

    from grading import operations
    from grading.models import Submission
    from grading.worker import run_job
    from lms.labs.queries import server_name
    from lms.models import User
    from tests.hub.helpers import run_in_terminal

    stack = line
    alice_id, bob_id = stack.users["alice"].id, stack.users["bob"].id
    server = server_name(COURSE_SLUG, LAB_SLUG)
    base = f"{stack.hub_url}/user/u{alice_id}/{server}"
    monkeypatch.setitem(stack.app.config, "HUB_SUBMIT_MIN_INTERVAL", 0)
    contents = f"{base}/api/contents/{LAB_SLUG}.ipynb"
    notebook = requests.get(contents, headers=stack.service_headers, timeout=30).json()["content"]
    notebook["cells"].append({"cell_type": "markdown", "id": "second", "metadata": {}, "source": "Second try."})
    saved = requests.put(contents, headers=stack.service_headers, timeout=30,
                         json={"type": "notebook", "format": "json", "content": notebook})
    assert saved.status_code == 200, saved.text[:300]
    with stack.app.app_context():
        before = db.session.scalar(db.select(db.func.max(Submission.id)))

    printed: dict[str, str] = {}
    kernel = threading.Thread(target=lambda: printed.update(
        text=run_in_kernel(base, stack.service_headers, "%submit --timeout 120", timeout=150)))
    kernel.start()
    deadline, submission_id = time.monotonic() + 60, None
    while submission_id is None and time.monotonic() < deadline:
        with stack.app.app_context():
            newest = db.session.scalar(db.select(Submission).where(Submission.id > before)
                                       .order_by(Submission.id.desc()))
            if newest is not None:
                submission_id, job_id = newest.id, newest.jobs[-1].id
                assert newest.user_id == alice_id and newest.seed == stack.lab["seeds"][alice_id]
            db.session.remove()
        time.sleep(0.2)
    assert submission_id is not None, stack.log_tail()
    with stack.app.app_context():
        assert run_job(job_id, "hub-test-worker") == "graded"
    kernel.join(150)
    text, points = printed.get("text", ""), f"{stack.lab['points']:g}"
    assert "as last saved at" in text and f"(submission {submission_id})" in text, text
    assert f"Graded: {points} / {points} points." in text, text
    assert f"Feedback: {stack.lms_url}/labs/submissions/{submission_id}" in text, text

    # Straight away again from a terminal (the lab's PATH has nia-submit): a clear refusal, nothing queued.
    monkeypatch.setitem(stack.app.config, "HUB_SUBMIT_MIN_INTERVAL", 600)
    shown = run_in_terminal(base, stack.service_headers, "nia-submit --no-wait", r"Not submitted: .*moment ago")
    assert "Wait " in shown
    with stack.app.app_context():
        assert db.session.scalar(db.select(db.func.max(Submission.id))) == submission_id

    # Alice's lab token never reads another trainee's submission.
    with stack.app.app_context():
        from grading.models import Lab

        lab = db.session.scalar(db.select(Lab).where(Lab.slug == LAB_SLUG))
        bobs, _created = operations.submit(db.session.get(User, bob_id), lab, f"{LAB_SLUG}.ipynb",
                                           json.dumps(notebook).encode())
        db.session.commit()
        bobs_id = bobs.id
    token = run_in_kernel(base, stack.service_headers, "import os; print(os.environ['JUPYTERHUB_API_TOKEN'])")
    headers = {"Authorization": f"token {token.strip()}", "Accept": "application/json"}
    own = requests.get(f"{stack.lms_url}/launch/_lab/submissions/{submission_id}", headers=headers, timeout=30)
    assert own.status_code == 200 and own.json()["status"] == "graded"
    other = requests.get(f"{stack.lms_url}/launch/_lab/submissions/{bobs_id}", headers=headers, timeout=30)
    assert other.status_code == 404
