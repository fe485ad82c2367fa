"""LMS pages and interfaces of grading: submit over HTTP, live status, permissions, regrade/override, gradebook,
instructor source upload, registry hooks, the lab_graded signal and the sandbox health check."""
from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pytest

from tests.fixtures.grading import COURSE_SLUG, LAB_SLUG, SOLUTION, with_answer

pytestmark = [pytest.mark.slow, pytest.mark.bwrap]
LAB_URL = f"/labs/{COURSE_SLUG}/{LAB_SLUG}"


def _post_notebook(client, csrf_token, content: bytes, url: str = LAB_URL + "/submit", name: str = "oee-shift.ipynb",
                   page: str = LAB_URL):
    return client.post(url, data={"csrf_token": csrf_token(page), "notebook": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def _switch(client, login, user):
    """Log in as another account (the login page redirects signed-in users)."""
    from tests.conftest import extract_csrf

    token = extract_csrf(client.get("/labs/").get_data(as_text=True))
    assert client.post("/accounts/logout", data={"csrf_token": token}).status_code in (302, 303)
    login(user)


def _run_queued(app) -> list[str]:
    from grading.models import GradingJob
    from grading.worker import run_job
    from lms.extensions import db

    with app.app_context():
        ids = db.session.scalars(db.select(GradingJob.id).where(GradingJob.status == "queued")).all()
        return [run_job(i, "test-worker") for i in ids]


def test_submit_store_then_live_status_then_result(app, client, grading_trainee, login, csrf_token):
    login(grading_trainee)
    page = client.get(LAB_URL).get_data(as_text=True)
    assert "Submit for grading" in page and "grading.js" in page and "<script>" not in page
    content = with_answer(app, SOLUTION)
    response = _post_notebook(client, csrf_token, content)
    assert response.status_code == 302
    submission_url = response.headers["Location"]
    sid = int(submission_url.rstrip("/").split("/")[-1])
    stored = Path(app.config["GRADING_DIR"]) / "submissions" / hashlib.sha256(content).hexdigest()[:2]
    assert (stored / f"{hashlib.sha256(content).hexdigest()}.ipynb").read_bytes() == content  # stored first
    status = client.get(f"/labs/submissions/{sid}/status").get_json()
    assert status["status"] == "queued" and status["final"] is False and status["queue_position"] == 1
    assert "Queued" in client.get(submission_url).get_data(as_text=True)
    assert _run_queued(app) == ["graded"]
    status = client.get(f"/labs/submissions/{sid}/status").get_json()
    assert (status["status"], status["score"], status["max_score"], status["final"]) == ("graded", 5.0, 5.0, True)
    fragment = client.get(f"/labs/submissions/{sid}/result").get_data(as_text=True)
    assert "5 / 5" in fragment and "Passed" in fragment and "_expected" not in fragment
    with client.get("/labs/static/grading.js") as js:
        assert js.status_code == 200 and b"data-grading-status" in js.data


def test_duplicate_submit_is_not_graded_twice(app, client, grading_trainee, login, csrf_token):
    from grading.models import GradingJob, Submission
    from lms.extensions import db

    login(grading_trainee)
    content = with_answer(app, SOLUTION)
    first = _post_notebook(client, csrf_token, content).headers["Location"]
    second = _post_notebook(client, csrf_token, content).headers["Location"]
    assert first == second
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Submission.id))) == 1
        assert db.session.scalar(db.select(db.func.count(GradingJob.id))) == 1


def test_only_enrolled_trainees_submit_and_see_labs(app, client, make_user, grading_lab, login, csrf_token):
    outsider = make_user("trainee")
    login(outsider)
    assert client.get(LAB_URL).status_code == 404
    assert client.get("/labs/").status_code == 200
    token = csrf_token("/labs/")
    response = client.post(LAB_URL + "/submit", data={"csrf_token": token,
                                                      "notebook": (io.BytesIO(b"{}"), "oee-shift.ipynb")},
                           content_type="multipart/form-data")
    assert response.status_code == 404


def test_instructor_not_enrolled_cannot_submit(app, client, make_user, grading_lab, login, csrf_token):
    login(make_user("instructor"))
    assert client.get(LAB_URL).status_code == 200
    assert _post_notebook(client, csrf_token, with_answer(app, SOLUTION)).status_code == 403


def test_a_trainee_never_sees_another_trainees_submission(app, client, make_user, grading_enrol, grading_lab,
                                                          grading_run, login):
    owner, other = grading_enrol(make_user()), grading_enrol(make_user())
    sid, _ = grading_run(owner, with_answer(app, SOLUTION), run=False)
    login(other)
    for suffix in ("", "/status", "/result"):
        assert client.get(f"/labs/submissions/{sid}{suffix}").status_code == 404
    assert client.get("/labs/submissions/999999").status_code == 404


def test_upload_over_limit_is_refused(app, client, grading_trainee, login, csrf_token, monkeypatch):
    from grading.models import Submission
    from lms.extensions import db

    monkeypatch.setitem(app.config, "GRADING_MAX_UPLOAD_BYTES", 100_000)  # stays below werkzeug's spool size
    login(grading_trainee)
    big = b"{" + b" " * (app.config["GRADING_MAX_UPLOAD_BYTES"] + 10) + b"}"
    response = _post_notebook(client, csrf_token, big)
    assert response.status_code == 302 and response.headers["Location"].endswith(LAB_URL)
    assert "limit" in client.get(LAB_URL).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Submission.id))) == 0


def test_regrade_and_override_are_audited(app, client, make_user, grading_trainee, grading_run, login, csrf_token):
    from lms.extensions import db
    from lms.models import AuditEvent

    sid, _ = grading_run(grading_trainee, with_answer(app, SOLUTION))
    url = f"/labs/submissions/{sid}"
    login(grading_trainee)
    assert client.post(url + "/regrade", data={"csrf_token": csrf_token(url)}).status_code == 403
    _switch(client, login, make_user("instructor"))
    assert client.post(url + "/regrade", data={"csrf_token": csrf_token(url)}).status_code == 302
    assert _run_queued(app) == ["graded"]
    response = client.post(url + "/override", data={"csrf_token": csrf_token(url), "score": "4.5", "reason": ""})
    assert response.status_code == 302
    assert client.get(f"{url}/status").get_json()["score"] == 5.0
    client.post(url + "/override", data={"csrf_token": csrf_token(url), "score": "4.5",
                                         "reason": "Partial credit for the shown working"})
    assert client.get(f"{url}/status").get_json()["score"] == 4.5
    page = client.get(url).get_data(as_text=True)
    assert "Partial credit for the shown working" in page
    with app.app_context():
        actions = db.session.scalars(db.select(AuditEvent.action)).all()
        detail = db.session.scalar(db.select(AuditEvent.detail).where(AuditEvent.action == "grading.override"))
    assert actions.count("grading.graded") == 2 and "grading.regrade_requested" in actions
    assert detail["reason"] == "Partial credit for the shown working" and detail["before"] == 5.0


def test_gradebook_page_and_csv_export(app, client, make_user, grading_trainee, grading_run, login):
    grading_run(grading_trainee, with_answer(app, SOLUTION))
    login(grading_trainee)
    assert client.get(f"/labs/{COURSE_SLUG}/gradebook").status_code == 403
    _switch(client, login, make_user("instructor"))
    assert grading_trainee.email in client.get(f"/labs/{COURSE_SLUG}/gradebook").get_data(as_text=True)
    response = client.get(f"/labs/{COURSE_SLUG}/gradebook?format=csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert response.mimetype == "text/csv" and rows[0][2] == "oee-shift (/5)"
    assert [grading_trainee.email, grading_trainee.name, "5"] in rows


def test_registry_hooks_and_lab_graded_signal(app, grading_trainee, grading_run):
    from lms.core.registry import completion_evidence, gradebook_columns
    from lms.signals import lab_graded

    received = []

    def listener(sender, **kwargs):
        received.append(kwargs)

    lab_graded.connect(listener)
    try:
        with app.app_context():
            before = completion_evidence(grading_trainee.id, COURSE_SLUG)
        sid, _ = grading_run(grading_trainee, with_answer(app, SOLUTION))
    finally:
        lab_graded.disconnect(listener)
    assert before == [{"type": "lab", "slug": LAB_SLUG, "title": "OEE on your own shift", "score": None,
                       "max_score": 5.0, "passed": False, "graded_at": None}]
    assert received == [{"user_id": grading_trainee.id, "course_slug": COURSE_SLUG, "lab_slug": LAB_SLUG,
                         "submission_id": sid, "score": 5.0, "max_score": 5.0, "passed": True}]
    with app.app_context():
        evidence = completion_evidence(grading_trainee.id, COURSE_SLUG)
        columns = gradebook_columns(COURSE_SLUG, [grading_trainee.id])
    assert evidence[0]["passed"] is True and evidence[0]["score"] == 5.0 and evidence[0]["graded_at"]
    assert (["OEE on your own shift (/5)"], {grading_trainee.id: {"OEE on your own shift (/5)": 5.0}}) in columns


def test_release_download_has_no_solutions_or_hidden_tests(app, client, grading_trainee, login):
    login(grading_trainee)
    with client.get(LAB_URL + "/notebook/oee-shift.ipynb") as response:
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and "NotImplementedError" in body
    assert "BEGIN SOLUTION" not in body and "_expected" not in body
    assert client.get(LAB_URL + "/notebook/other.ipynb").status_code == 404
    with client.get(LAB_URL + "/files/reason-codes.csv") as response:
        assert response.status_code == 200 and b"Changeover" in response.data
    assert client.get(LAB_URL + "/files/../../gradebook.db").status_code == 404
    assert client.get(LAB_URL + "/files/oee-shift.ipynb").status_code == 404


def test_instructor_source_upload_is_checked_before_acceptance(app, client, make_user, grading_lab, login,
                                                               csrf_token, grading_course_dir):
    from grading.models import Lab
    from lms.extensions import db

    login(make_user("instructor"))
    url = LAB_URL + "/source"
    source = (grading_course_dir / "labs" / LAB_SLUG / f"{LAB_SLUG}.ipynb").read_bytes()
    broken = source.replace(b"return (planned_min - downtime_min) / planned_min",
                            b"return (planned_min - downtime_min) / planned_min / 2")
    response = _post_notebook(client, csrf_token, broken, url=url, page=url)
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "test-availability" in text and "with the solution" in text
    response = _post_notebook(client, csrf_token, source, url=url, page=url, name="wrong-name.ipynb")
    assert response.status_code == 422 and "oee-shift.ipynb" in response.get_data(as_text=True)
    with app.app_context():
        before = db.session.get(Lab, grading_lab).source_dir
    extra = source.replace(b"Write the two functions", b"Write both functions")
    response = _post_notebook(client, csrf_token, extra, url=url, page=url)
    assert response.status_code == 302
    with app.app_context():
        lab = db.session.get(Lab, grading_lab)
        assert lab.source_dir != before and lab.built_hash == lab.source_hash and lab.points == 5


def test_refuses_to_grade_without_bubblewrap_unless_unsafe_allowed(app, client, grading_trainee, grading_run,
                                                                    grading_state, monkeypatch):
    from grading import sandbox

    monkeypatch.setattr(sandbox, "bwrap_problem", lambda: "bubblewrap (bwrap) is not installed")
    health = client.get("/healthz").get_json()["components"]["grading"]
    assert health["status"] == "down" and "bubblewrap" in health["error"]
    sid, status = grading_run(grading_trainee, with_answer(app, SOLUTION))
    assert status == "error" and "Grading refused" in grading_state(sid)["error"]
    monkeypatch.setitem(app.config, "GRADING_ALLOW_UNSAFE", True)
    assert client.get("/healthz").get_json()["components"]["grading"]["warning"].startswith("UNSAFE")
    sid, status = grading_run(grading_trainee, with_answer(app, SOLUTION + "# unsafe run\n"))
    state = grading_state(sid)
    assert status == "graded" and state["score"] == 5 and state["provenance"]["sandbox"].startswith("UNSAFE")


def test_health_reports_sandbox_and_queue(client, app):
    health = client.get("/healthz").get_json()["components"]["grading"]
    assert health["status"] == "ok" and health["sandbox"].startswith("bwrap:") and health["backend"] == "sqlite"
