"""Quiz attempts through /api/v1: start without the key, submit, score, explanations, ownership, limits."""
from __future__ import annotations

import pytest

from tests.fixtures.api import bearer

PROBLEM = "application/problem+json"


def _enrol(client, headers, slug="api-101"):
    response = client.post("/api/v1/enrolments", json={"course": slug}, headers=headers)
    assert response.status_code in (200, 201), response.get_json()


def _start(client, headers, quiz_id):
    response = client.post(f"/api/v1/quizzes/{quiz_id}/attempts", headers=headers)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def _right_answers(attempt, ids):
    by_id = {v: k for k, v in ids.items()}
    right = {"single": 1, "multi": [0, 2], "num": 0.3, "text": " mqtt "}
    return {str(q["id"]): right[by_id[q["id"]]] for q in attempt["questions"]}


def test_start_returns_questions_without_answers(client, api_course, api_user):
    user, headers = api_user()
    _enrol(client, headers)
    response = client.post(f"/api/v1/quizzes/{api_course.quiz_id}/attempts", headers=headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "open" and len(body["questions"]) == 4
    assert body["score"] is None and "results" not in body
    text = response.get_data(as_text=True)
    for leaked in ("answer", "explanation", "B is right", "tolerance", "MQTT"):
        assert leaked not in text
    assert {q["kind"] for q in body["questions"]} == {"single", "multiple", "numeric", "text"}
    # Starting again resumes the same open attempt (200, not a second draw).
    again = client.post(f"/api/v1/quizzes/{api_course.quiz_id}/attempts", headers=headers)
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]


def test_submit_scores_and_explains(client, api_course, api_user):
    user, headers = api_user()
    _enrol(client, headers)
    attempt = _start(client, headers, api_course.quiz_id)
    response = client.post(f"/api/v1/attempts/{attempt['id']}/submit",
                           json={"answers": _right_answers(attempt, api_course.question_ids)}, headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "submitted" and body["passed"] is True
    assert body["percent"] == 100.0 and body["score"] == body["max_score"] == 4.0
    assert all(r["correct"] for r in body["results"])
    assert {r["explanation"] for r in body["results"]} >= {"B is right.", "MQTT."}
    listing = client.get(f"/api/v1/quizzes/{api_course.quiz_id}/attempts", headers=headers).get_json()
    assert [a["id"] for a in listing] == [attempt["id"]] and listing[0]["passed"] is True
    again = client.get(f"/api/v1/attempts/{attempt['id']}", headers=headers).get_json()
    assert again["results"] == body["results"] and "questions" not in again
    resubmit = client.post(f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": {}}, headers=headers)
    assert resubmit.status_code == 409 and resubmit.mimetype == PROBLEM


def test_wrong_and_missing_answers_score_partially(client, api_course, api_user):
    user, headers = api_user()
    _enrol(client, headers)
    attempt = _start(client, headers, api_course.quiz_id)
    ids = api_course.question_ids
    answers = {str(ids["single"]): 0, str(ids["multi"]): [0, 1, 2], str(ids["num"]): "0.305"}
    body = client.post(f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": answers},
                       headers=headers).get_json()
    outcome = {r["id"]: r["correct"] for r in body["results"]}
    assert outcome == {ids["single"]: False, ids["multi"]: False, ids["num"]: True, ids["text"]: False}
    assert body["percent"] == 25.0 and body["passed"] is False


@pytest.mark.parametrize("answers, where", [
    ({"QID_single": 7}, "QID_single"),  # option out of range
    ({"QID_num": "twelve"}, "QID_num"),  # not a number
    ({"QID_single": {"a": 1}}, "QID_single"),  # wrong JSON type
    ({"QID_single": True}, "QID_single"),
    ({"999999": 1}, "_form"),  # not a question of this attempt
])
def test_bad_answers_are_422_and_keep_attempt_open(client, api_course, api_user, answers, where):
    user, headers = api_user()
    _enrol(client, headers)
    attempt = _start(client, headers, api_course.quiz_id)
    ids = api_course.question_ids

    def real(key: str) -> str:
        return str(ids[key[4:]]) if key.startswith("QID_") else key

    response = client.post(f"/api/v1/attempts/{attempt['id']}/submit",
                           json={"answers": {real(k): v for k, v in answers.items()}}, headers=headers)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert real(where) in response.get_json()["errors"]["json"]["answers"]
    assert client.get(f"/api/v1/attempts/{attempt['id']}", headers=headers).get_json()["status"] == "open"


@pytest.mark.parametrize("payload", [{}, {"answers": "all of them"}, {"answers": {"abc": 1}}, [1, 2]])
def test_malformed_submit_body_is_422(client, api_course, api_user, payload):
    user, headers = api_user()
    _enrol(client, headers)
    attempt = _start(client, headers, api_course.quiz_id)
    response = client.post(f"/api/v1/attempts/{attempt['id']}/submit", json=payload, headers=headers)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert response.get_json()["errors"]


def test_not_json_body_is_a_problem(client, api_course, api_user):
    user, headers = api_user()
    _enrol(client, headers)
    attempt = _start(client, headers, api_course.quiz_id)
    response = client.post(f"/api/v1/attempts/{attempt['id']}/submit", data="{not json",
                           content_type="application/json", headers=headers)
    assert 400 <= response.status_code < 500 and response.mimetype == PROBLEM


def test_another_trainees_attempt_is_404(client, api_course, api_user):
    owner, owner_headers = api_user()
    other, other_headers = api_user()
    _enrol(client, owner_headers)
    attempt = _start(client, owner_headers, api_course.quiz_id)
    for response in (client.get(f"/api/v1/attempts/{attempt['id']}", headers=other_headers),
                     client.post(f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": {}},
                                 headers=other_headers)):
        assert response.status_code == 404 and response.mimetype == PROBLEM
    assert client.get(f"/api/v1/quizzes/{api_course.quiz_id}/attempts", headers=other_headers).get_json() == []
    assert client.get(f"/api/v1/attempts/{attempt['id']}", headers=owner_headers).status_code == 200


def test_not_enrolled_is_403_and_unknown_quiz_404(client, api_course, api_user):
    user, headers = api_user()
    response = client.post(f"/api/v1/quizzes/{api_course.quiz_id}/attempts", headers=headers)
    assert response.status_code == 403 and response.mimetype == PROBLEM
    assert "Enrol" in response.get_json()["detail"]
    for url in ("/api/v1/quizzes/999999/attempts", "/api/v1/attempts/999999"):
        assert client.get(url, headers=headers).status_code == 404
    assert client.post("/api/v1/quizzes/999999/attempts", headers=headers).status_code == 404


def test_attempt_limit_is_409(client, api_course, api_user):
    user, headers = api_user()
    _enrol(client, headers)
    for _ in range(2):
        attempt = _start(client, headers, api_course.quiz_id)
        client.post(f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": {}}, headers=headers)
    response = client.post(f"/api/v1/quizzes/{api_course.quiz_id}/attempts", headers=headers)
    assert response.status_code == 409 and response.mimetype == PROBLEM
    assert "2" in response.get_json()["detail"]


def test_quiz_endpoints_need_a_token(client, api_course, api_user, api_token):
    user, headers = api_user()
    urls = [("get", f"/api/v1/quizzes/{api_course.quiz_id}/attempts"),
            ("post", f"/api/v1/quizzes/{api_course.quiz_id}/attempts"),
            ("get", "/api/v1/attempts/1"), ("post", "/api/v1/attempts/1/submit")]
    for method, url in urls:
        for bad in ({}, bearer("nia_not-a-real-token"), {"Authorization": "Basic dXNlcjpwYXNz"}):
            response = getattr(client, method)(url, headers=bad, json={"answers": {}})
            assert response.status_code == 401, (method, url, bad)
            assert response.mimetype == PROBLEM
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_late_submission_expires_the_attempt(app, client, api_course, api_user, monkeypatch):
    from datetime import timedelta

    from lms.extensions import db
    from lms.models import Quiz
    from lms.quizzes import clock

    with app.app_context():
        db.session.get(Quiz, api_course.quiz_id).time_limit_minutes = 10
        db.session.commit()
    user, headers = api_user()
    _enrol(client, headers)
    attempt = _start(client, headers, api_course.quiz_id)
    assert 0 < attempt["seconds_left"] <= 600 and attempt["deadline"]
    real_now = clock.now()
    monkeypatch.setattr(clock, "now", lambda: real_now + timedelta(hours=1))
    response = client.post(f"/api/v1/attempts/{attempt['id']}/submit",
                           json={"answers": _right_answers(attempt, api_course.question_ids)}, headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "expired" and body["score"] == 0.0 and body["passed"] is False
