"""The signed-in learner's course progress is kept per process (lms.learning.progress_cache), keyed by the progress
stamp every change replaces in its own transaction (lms.core.progress_stamp); the signed-in user is a snapshot of
its row (lms.accounts.signed_in); verified session cookies and signed CSRF tokens are remembered
(lms.core.signed_values). Whatever changes, in this request, another browser or another process, the next page
shows it; nothing is served from another visitor's memory; a rolled-back change leaves the cache valid."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.learning import operations as learning_ops
from lms.models import Enrolment, Lesson, LessonCompletion, User
from tests.fixtures.content import form_token
from tests.test_learning_queries_count import counted

pytestmark = pytest.mark.usefixtures("release_session")


@pytest.fixture
def enrolled(app, client, imported, learner, sign_in):
    """A trainee signed in on `client` and enrolled in the alpha course through the page."""
    imported()
    user = learner()
    sign_in(user)
    token = form_token(client.get("/courses/alpha").get_data(as_text=True))
    assert client.post("/courses/alpha/enrol", data={"csrf_token": token}).status_code == 302
    return user


def _html(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def _stamp(app, user_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(User.progress_stamp).where(User.id == user_id))


def _elsewhere(app, change) -> None:
    """Run `change(session)` and commit in a session of its own, as another worker or the grading job would."""
    with app.app_context():
        change(db.session)
        db.session.commit()


def _lesson(session, slug: str) -> Lesson:
    return session.scalar(select(Lesson).where(Lesson.slug == slug))


def test_a_repeated_lesson_page_reads_only_the_user(app, client, enrolled):
    _html(client, "/courses/alpha/lessons/first")
    with counted(app) as statements:
        html = _html(client, "/courses/alpha/lessons/first")
    assert "Mark as done" in html
    assert len(statements) == 1 and "FROM users" in statements[0], statements


def test_progress_written_by_another_process_shows_on_the_next_page(app, client, enrolled):
    assert "0 of 3 lessons done" in _html(client, "/courses/alpha")
    _elsewhere(app, lambda s: learning_ops.mark_lesson_done(s.get(User, enrolled.id), _lesson(s, "first")))
    assert "1 of 3 lessons done" in _html(client, "/courses/alpha")
    assert "Mark as done" not in _html(client, "/courses/alpha/lessons/first")


def test_a_withdrawal_elsewhere_closes_the_lessons_at_once(app, client, enrolled):
    assert "Mark as done" in _html(client, "/courses/alpha/lessons/first")

    def withdraw(session):
        session.scalar(select(Enrolment).where(Enrolment.user_id == enrolled.id)).status = "withdrawn"

    _elsewhere(app, withdraw)
    response = client.get("/courses/alpha/lessons/first")
    assert response.status_code == 403
    assert "Enrol in this course" in response.get_data(as_text=True)


def test_marking_done_in_this_request_is_seen_by_the_same_request_and_the_next(app, client, enrolled):
    page = _html(client, "/courses/alpha/lessons/first")
    response = client.post("/courses/alpha/lessons/first/done", data={"csrf_token": form_token(page)})
    assert response.status_code == 302
    assert "Lesson marked as done." in _html(client, "/courses/alpha/lessons/first")
    assert "1 of 3 lessons done" in _html(client, "/courses/alpha")


def test_a_rolled_back_change_keeps_the_stamp_and_the_cached_progress(app, client, enrolled):
    _html(client, "/courses/alpha/lessons/first")
    before = _stamp(app, enrolled.id)
    with app.app_context():
        db.session.add(LessonCompletion(user_id=enrolled.id, lesson_id=_lesson(db.session, "first").id))
        db.session.flush()
        assert db.session.scalar(select(User.progress_stamp).where(User.id == enrolled.id)) != before
        db.session.rollback()
    assert _stamp(app, enrolled.id) == before
    with counted(app) as statements:
        html = _html(client, "/courses/alpha/lessons/first")
    assert "Mark as done" in html and len(statements) == 1, statements


def test_each_learner_sees_only_their_own_progress(app, client, enrolled, learner, new_client, sign_in):
    _elsewhere(app, lambda s: learning_ops.mark_lesson_done(s.get(User, enrolled.id), _lesson(s, "first")))
    assert "1 of 3 lessons done" in _html(client, "/courses/alpha")
    other = learner()
    browser = new_client(REMOTE_ADDR="10.0.0.9")
    with app.test_request_context(environ_base=browser.environ_base):
        from flask_login.utils import _create_identifier
        identifier = _create_identifier()
    with browser.session_transaction() as session:
        session.update({"_user_id": other.get_id(), "_fresh": True, "_id": identifier})
    token = form_token(_html(browser, "/courses/alpha"))
    assert browser.post("/courses/alpha/enrol", data={"csrf_token": token}).status_code == 302
    assert "0 of 3 lessons done" in _html(browser, "/courses/alpha")
    assert "Mark as done" in _html(browser, "/courses/alpha/lessons/first")
    assert "1 of 3 lessons done" in _html(client, "/courses/alpha")


def test_account_changes_elsewhere_apply_to_the_next_request(app, client, enrolled):
    assert client.get("/instructor/").status_code == 403

    def promote(session):
        session.get(User, enrolled.id).role = "instructor"

    _elsewhere(app, promote)
    assert client.get("/instructor/").status_code == 200

    def deactivate(session):
        session.get(User, enrolled.id).active = False

    _elsewhere(app, deactivate)
    response = client.get("/courses/alpha/lessons/first")
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]


def test_writes_through_the_signed_in_user_are_saved(app, client, enrolled):
    page = _html(client, "/accounts/profile")
    response = client.post("/accounts/profile", data={"csrf_token": form_token(page), "name": "Renamed Learner",
                                                      "locale": "zh_Hant", "action": "profile"})
    assert response.status_code in (200, 302)
    with app.app_context():
        row = db.session.get(User, enrolled.id)
        assert (row.name, row.locale) == ("Renamed Learner", "zh_Hant")
    assert "Renamed Learner" in _html(client, "/courses/alpha/lessons/first")


def test_forms_on_every_page_carry_the_same_accepted_token(client, enrolled):
    first = form_token(_html(client, "/courses/alpha/lessons/first"))
    second = form_token(_html(client, "/courses/alpha/lessons/second"))
    assert first == second
    response = client.post("/courses/alpha/lessons/second/done", data={"csrf_token": second})
    assert response.status_code == 302


def test_a_tampered_cookie_is_refused_even_when_the_real_one_is_remembered(app, client, enrolled):
    _html(client, "/courses/alpha/lessons/first")
    real = client.get_cookie("session").value
    client.set_cookie("session", real[:-2] + ("AA" if real[-2:] != "AA" else "BB"))
    response = client.get("/courses/alpha/lessons/first")
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]
    client.set_cookie("session", real)
    assert client.get("/courses/alpha/lessons/first").status_code == 200


def test_a_remembered_cookie_still_expires(app, client, enrolled):
    lifetime = app.permanent_session_lifetime
    app.permanent_session_lifetime = timedelta(seconds=1)
    try:
        assert client.get("/courses/alpha/lessons/first").status_code == 200  # verified and remembered
        time.sleep(2.1)
        response = client.get("/courses/alpha/lessons/first")
        assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]
    finally:
        app.permanent_session_lifetime = lifetime


def test_a_request_changing_its_session_does_not_change_the_remembered_one(app, enrolled, client):
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "waiting")]
    cookie = client.get_cookie("session").value
    interface = app.session_interface
    with app.test_request_context(headers={"Cookie": f"session={cookie}"}) as ctx:
        first = interface.open_session(app, ctx.request)
        first["_flashes"].append(("info", "only in this request"))  # what flask.flash does, in place
        first["extra"] = 1
    with app.test_request_context(headers={"Cookie": f"session={cookie}"}) as ctx:
        second = interface.open_session(app, ctx.request)
    assert second["_flashes"] == [("info", "waiting")] and "extra" not in second
    assert second["_user_id"] == enrolled.get_id()


def test_changes_not_yet_flushed_are_counted_in_the_same_request(app, client, enrolled):
    from flask_login import login_user

    from lms.accounts.signed_in import load_signed_in
    from lms.learning import queries

    _html(client, "/courses/alpha/lessons/first")
    with app.test_request_context("/courses/alpha"):
        login_user(load_signed_in(enrolled.id, str(enrolled.session_version)))
        course = queries.course_by_slug("alpha")
        assert queries.course_progress(enrolled.id, course)["lessons_done"] == 0
        assert queries.course_progress(enrolled.id, course) is queries.course_progress(enrolled.id, course)
        db.session.add(LessonCompletion(user_id=enrolled.id, lesson_id=_lesson(db.session, "first").id))
        assert queries.course_progress(enrolled.id, course)["lessons_done"] == 1  # pending, then autoflushed
        db.session.rollback()
