"""Catalog, course outlines, enrolments, progress and staff rosters through /api/v1."""
from __future__ import annotations

import json

import pytest

from lms.extensions import db
from lms.models import Lesson, User

PROBLEM = "application/problem+json"


def _enrol(client, headers, slug="api-101"):
    return client.post("/api/v1/enrolments", json={"course": slug}, headers=headers)


# --- catalog -----------------------------------------------------------------------------------------------------

def test_catalog_is_public_and_hides_retired_courses(client, api_course):
    response = client.get("/api/v1/courses")
    assert response.status_code == 200 and response.mimetype == "application/json"
    courses = response.get_json()
    assert [c["slug"] for c in courses] == ["api-101", "api-201"]
    first = courses[0]
    assert first["title"] == "API course" and first["url"] == "/courses/api-101" and first["hours"] == 2.0
    assert courses[1]["prerequisites"] == ["api-101"]
    assert json.loads(response.headers["X-Pagination"])["total"] == 2


def test_catalog_pagination(client, api_course):
    page = client.get("/api/v1/courses?page=2&page_size=1")
    assert [c["slug"] for c in page.get_json()] == ["api-201"]
    meta = json.loads(page.headers["X-Pagination"])
    assert meta["page"] == 2 and meta["total_pages"] == 2 and meta["previous_page"] == 1
    for bad in ("page=0", "page_size=1000", "page=abc"):
        response = client.get(f"/api/v1/courses?{bad}")
        assert response.status_code == 422 and response.mimetype == PROBLEM, bad
        assert response.get_json()["errors"]["query"]


def test_staff_token_sees_retired_courses(client, api_course, api_user):
    _user, headers = api_user("instructor")
    slugs = [c["slug"] for c in client.get("/api/v1/courses", headers=headers).get_json()]
    assert "api-old" in slugs
    assert client.get("/api/v1/courses/api-old", headers=headers).status_code == 200
    assert client.get("/api/v1/courses/api-old").status_code == 404


def test_catalog_with_a_bad_token_is_401_not_anonymous(client, api_course):
    response = client.get("/api/v1/courses", headers={"Authorization": "Bearer nia_nope"})
    assert response.status_code == 401 and response.mimetype == PROBLEM


def test_course_outline(client, api_course):
    response = client.get("/api/v1/courses/api-101")
    assert response.status_code == 200
    course = response.get_json()
    assert [m["slug"] for m in course["modules"]] == ["basics", "advanced"]
    basics, advanced = course["modules"]
    assert [lesson["slug"] for lesson in basics["lessons"]] == ["intro", "topics"]
    assert basics["quizzes"] == [{"id": api_course.quiz_id, "slug": "check", "title": "Check",
                                  "questions_per_attempt": 4, "attempt_limit": 2, "pass_mark": 75.0,
                                  "time_limit_minutes": None}]
    assert advanced["prerequisites"] == ["basics"]
    assert "body" not in response.get_data(as_text=True)  # titles only: lessons are read on the web


@pytest.mark.parametrize("url", ["/api/v1/courses/nope", "/api/v1/courses/api-old"])
def test_unknown_or_retired_course_is_404(client, api_course, url):
    response = client.get(url)
    assert response.status_code == 404 and response.mimetype == PROBLEM
    assert response.get_json()["title"] == "Not Found"


# --- enrolments --------------------------------------------------------------------------------------------------

def test_enrol_then_list(client, api_course, api_user):
    _user, headers = api_user()
    assert client.get("/api/v1/enrolments", headers=headers).get_json() == []
    first = _enrol(client, headers)
    assert first.status_code == 201
    body = first.get_json()
    assert body["course"] == "api-101" and body["status"] == "active" and body["completed_at"] is None
    assert _enrol(client, headers).status_code == 200  # idempotent
    listing = client.get("/api/v1/enrolments", headers=headers).get_json()
    assert [e["course"] for e in listing] == ["api-101"]


@pytest.mark.parametrize("payload, field", [({}, "course"), ({"course": ""}, "course"), ({"course": 7}, "course"),
                                             ({"course": "api-101", "extra": 1}, "extra")])
def test_enrol_validation_is_422_with_field_errors(client, api_course, api_user, payload, field):
    _user, headers = api_user()
    response = client.post("/api/v1/enrolments", json=payload, headers=headers)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == 422 and field in body["errors"]["json"]


def test_enrol_follows_the_web_rules(client, api_course, api_user):
    _user, headers = api_user()
    unknown = _enrol(client, headers, "nope")
    assert unknown.status_code == 404 and unknown.mimetype == PROBLEM
    retired = _enrol(client, headers, "api-old")
    assert retired.status_code == 404
    blocked = _enrol(client, headers, "api-201")  # needs api-101 completed
    assert blocked.status_code == 403 and blocked.mimetype == PROBLEM
    assert "API course" in blocked.get_json()["detail"]
    assert client.get("/api/v1/enrolments", headers=headers).get_json() == []


# --- progress ----------------------------------------------------------------------------------------------------

def test_progress_follows_lessons_and_quizzes(app, client, api_course, api_user):
    from lms.learning.operations import mark_lesson_done

    user, headers = api_user()
    assert client.get("/api/v1/progress", headers=headers).get_json() == []
    _enrol(client, headers)
    with app.app_context():
        lesson = db.session.scalar(db.select(Lesson).where(Lesson.slug == "intro"))
        mark_lesson_done(db.session.get(User, user.id), lesson)
        db.session.commit()
    [progress] = client.get("/api/v1/progress", headers=headers).get_json()
    assert progress["course"] == "api-101" and progress["enrolled"] is True
    assert (progress["lessons_done"], progress["lessons_total"]) == (1, 3)
    assert (progress["quizzes_passed"], progress["quizzes_total"]) == (0, 2)
    assert progress["modules"][1] == {"slug": "advanced", "done": False, "unlocked": False, "missing": ["basics"]}
    assert progress["quizzes"][0]["best_percent"] is None and progress["quizzes"][0]["attempts"] == 0
    assert 0 < progress["percent"] < 100
    single = client.get("/api/v1/courses/api-101/progress", headers=headers).get_json()
    assert single == progress


def test_course_progress_when_not_enrolled_and_unknown(client, api_course, api_user):
    _user, headers = api_user()
    body = client.get("/api/v1/courses/api-101/progress", headers=headers).get_json()
    assert body["enrolled"] is False and body["lessons_done"] == 0 and body["status"] is None
    assert client.get("/api/v1/courses/nope/progress", headers=headers).status_code == 404


def test_locked_module_quiz_is_403(client, api_course, api_user):
    _user, headers = api_user()
    _enrol(client, headers)
    response = client.post(f"/api/v1/quizzes/{api_course.locked_quiz_id}/attempts", headers=headers)
    assert response.status_code == 403 and response.mimetype == PROBLEM


def test_progress_is_only_ever_mine(client, api_course, api_user):
    _a, a_headers = api_user()
    _b, b_headers = api_user()
    _enrol(client, a_headers)
    assert client.get("/api/v1/progress", headers=b_headers).get_json() == []
    assert client.get("/api/v1/courses/api-101/progress", headers=b_headers).get_json()["enrolled"] is False


# --- staff roster ------------------------------------------------------------------------------------------------

def test_roster_is_for_staff_only(client, api_course, api_user):
    trainee, t_headers = api_user()
    _enrol(client, t_headers)
    denied = client.get("/api/v1/courses/api-101/enrolments", headers=t_headers)
    assert denied.status_code == 403 and denied.mimetype == PROBLEM
    assert "instructor" in denied.get_json()["detail"]
    for role in ("instructor", "admin"):
        _staff, s_headers = api_user(role)
        response = client.get("/api/v1/courses/api-101/enrolments", headers=s_headers)
        assert response.status_code == 200, role
        [row] = response.get_json()
        assert row["user_id"] == trainee.id and row["email"] == trainee.email and row["percent"] == 0.0
        assert json.loads(response.headers["X-Pagination"])["total"] == 1
    _staff, s_headers = api_user("instructor")
    assert client.get("/api/v1/courses/nope/enrolments", headers=s_headers).status_code == 404
    assert client.get("/api/v1/courses/api-101/enrolments").status_code == 401
