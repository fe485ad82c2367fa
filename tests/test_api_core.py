"""API plumbing: OpenAPI document, bearer tokens (missing, bad, revoked), no session-cookie auth, problem+json."""
from __future__ import annotations

import pytest

from lms.extensions import db
from lms.models import User
from tests.fixtures.api import bearer

PROBLEM = "application/problem+json"
PRIVATE = [("get", "/api/v1/enrolments"), ("post", "/api/v1/enrolments"), ("get", "/api/v1/progress"),
           ("get", "/api/v1/courses/api-101/progress"), ("get", "/api/v1/courses/api-101/enrolments"),
           ("get", "/api/v1/quizzes/1/attempts"), ("post", "/api/v1/quizzes/1/attempts"),
           ("get", "/api/v1/attempts/1"), ("post", "/api/v1/attempts/1/submit")]


def test_openapi_document_is_valid_openapi_3(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": spec["components"]["securitySchemes"]["bearerAuth"][
            "description"]}
    for path in ("/api/v1/courses", "/api/v1/courses/{slug}", "/api/v1/enrolments", "/api/v1/progress",
                 "/api/v1/courses/{slug}/progress", "/api/v1/courses/{slug}/enrolments",
                 "/api/v1/quizzes/{quiz_id}/attempts", "/api/v1/attempts/{attempt_id}",
                 "/api/v1/attempts/{attempt_id}/submit"):
        assert path in spec["paths"], path
    # Private operations require the bearer scheme; the public catalog takes it optionally.
    assert spec["paths"]["/api/v1/enrolments"]["post"]["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/api/v1/courses"]["get"]["security"] == [{}, {"bearerAuth": []}]
    # Errors are documented as what we send: problem documents.
    unauthorized = spec["components"]["responses"]["UNAUTHORIZED"]
    assert list(unauthorized["content"]) == [PROBLEM]
    assert "Error" not in spec["components"]["schemas"]
    _assert_refs_resolve(spec, spec)
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(spec)  # the full OpenAPI 3.0 schema, when the validator is installed


def _assert_refs_resolve(node, spec) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            target = spec
            for part in ref.removeprefix("#/").split("/"):
                assert part in target, f"dangling $ref {ref}"
                target = target[part]
        for value in node.values():
            _assert_refs_resolve(value, spec)
    elif isinstance(node, list):
        for value in node:
            _assert_refs_resolve(value, spec)


@pytest.mark.parametrize("method, url", PRIVATE)
def test_missing_token_is_401_with_bearer_challenge(client, api_course, method, url):
    response = getattr(client, method)(url, json={})
    assert response.status_code == 401
    assert response.mimetype == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")
    body = response.get_json()
    assert body["status"] == 401 and body["title"] == "Unauthorized" and "Bearer" in body["detail"]


@pytest.mark.parametrize("header", ["Bearer nia_wrong", "Bearer ", "Bearer", "Token nia_x", "nia_x",
                                    "Bearer " + "x" * 5000])
def test_bad_token_is_401(client, api_course, header):
    response = client.get("/api/v1/enrolments", headers={"Authorization": header})
    assert response.status_code == 401 and response.mimetype == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_stops_working(app, client, api_course, make_user, api_token):
    from lms.accounts.tokens import list_tokens, revoke_token

    user = make_user()
    raw = api_token(user)
    assert client.get("/api/v1/enrolments", headers=bearer(raw)).status_code == 200
    with app.app_context():
        owner = db.session.get(User, user.id)
        revoke_token(owner, list_tokens(user.id)[0].id)
        db.session.commit()
    response = client.get("/api/v1/enrolments", headers=bearer(raw))
    assert response.status_code == 401 and "invalid_token" in response.headers["WWW-Authenticate"]


def test_deactivated_users_token_is_401(app, client, api_course, make_user, api_token):
    user = make_user()
    raw = api_token(user)
    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()
    assert client.get("/api/v1/enrolments", headers=bearer(raw)).status_code == 401


def test_browser_session_does_not_authorise_the_api(client, api_course, make_user, login):
    """A logged-in browser (cookie) gets 401: the API is CSRF-exempt because it never trusts the cookie."""
    user = make_user()
    login(user)
    assert client.get("/api/v1/enrolments").status_code == 401
    response = client.post("/api/v1/enrolments", json={"course": "api-101"})
    assert response.status_code == 401


def test_token_post_needs_no_csrf_token_and_acts_as_token_owner(client, api_course, make_user, login, api_token):
    """Even with someone else's browser session on the client, the token decides who acts."""
    owner, other = make_user(), make_user()
    login(other)
    response = client.post("/api/v1/enrolments", json={"course": "api-101"}, headers=bearer(api_token(owner)))
    assert response.status_code == 201
    mine = client.get("/api/v1/enrolments", headers=bearer(api_token(owner))).get_json()
    assert [e["course"] for e in mine] == ["api-101"]
    assert client.get("/api/v1/enrolments", headers=bearer(api_token(other))).get_json() == []


def test_unknown_path_and_method_are_problems(client, api_user):
    user, headers = api_user()
    missing = client.get("/api/v1/nothing-here", headers=headers)
    assert missing.status_code == 404 and missing.mimetype == PROBLEM
    wrong_method = client.delete("/api/v1/courses")
    assert wrong_method.status_code == 405 and wrong_method.mimetype == PROBLEM
    assert "GET" in wrong_method.headers["Allow"]


def test_non_json_body_is_a_problem_document(client, api_course, api_user):
    user, headers = api_user()
    response = client.post("/api/v1/enrolments", data="course=api-101",
                           content_type="application/x-www-form-urlencoded", headers=headers)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    broken = client.post("/api/v1/enrolments", data="{", content_type="application/json", headers=headers)
    assert 400 <= broken.status_code < 500 and broken.mimetype == PROBLEM


def test_oversized_body_is_413_problem(app, client, api_user):
    user, headers = api_user()
    too_big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/api/v1/enrolments", data=too_big, content_type="application/json", headers=headers)
    assert response.status_code == 413 and response.mimetype == PROBLEM
