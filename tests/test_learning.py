"""Catalog, course and lesson pages, enrolment, module locks, progress, dashboard — through HTTP."""
from __future__ import annotations

import re

import pytest
from flask_babel import refresh
from sqlalchemy import select

from lms.extensions import db
from lms.models import Course, Enrolment, LessonCompletion
from lms.models._types import utcnow
from tests.fixtures.content import form_token

pytestmark = pytest.mark.usefixtures("release_session")


@pytest.fixture
def alpha(app, imported):
    imported()
    return db.session.scalar(select(Course).where(Course.slug == "alpha"))


def _enrol(client, slug="alpha"):
    token = form_token(client.get(f"/courses/{slug}").get_data(as_text=True))
    return client.post(f"/courses/{slug}/enrol", data={"csrf_token": token})


def _done(client, lesson, slug="alpha"):
    page = client.get(f"/courses/{slug}/lessons/{lesson}")
    assert page.status_code == 200, page.status_code
    return client.post(f"/courses/{slug}/lessons/{lesson}/done",
                       data={"csrf_token": form_token(page.get_data(as_text=True))})


def test_catalog_is_public_and_hides_retired_courses(app, client, course_tree, imported):
    course_tree.add("beta").edit("beta", "course.yaml", "title: Alpha course", "title: Beta course")
    imported()
    db.session.scalar(select(Course).where(Course.slug == "beta")).archived = True
    db.session.commit()
    html = client.get("/courses").get_data(as_text=True)
    assert "Alpha course" in html and "Beta course" not in html
    assert client.get("/courses/beta").status_code == 404


def test_staff_see_retired_courses(app, client, course_tree, imported, learner, sign_in):
    course_tree.add("beta").edit("beta", "course.yaml", "title: Alpha course", "title: Beta course")
    imported()
    db.session.scalar(select(Course).where(Course.slug == "beta")).archived = True
    db.session.commit()
    sign_in(learner("instructor"))
    assert "Beta course" in client.get("/courses").get_data(as_text=True)
    assert client.get("/courses/beta").status_code == 200


def test_course_page_is_public(app, client, alpha):
    html = client.get("/courses/alpha").get_data(as_text=True)
    assert "Alpha course" in html and "First lesson" in html and "Third lesson" in html
    assert "Alpha achievement" in html and "/courses/alpha/lessons/first" not in html  # not enrolled: no links
    assert client.get("/courses/nope").status_code == 404


def test_enrol_requires_sign_in_and_csrf(app, client, alpha, learner, sign_in):
    token = form_token(client.get("/courses/alpha").get_data(as_text=True))
    response = client.post("/courses/alpha/enrol", data={"csrf_token": token})
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]
    user = learner()
    sign_in(user)
    assert client.post("/courses/alpha/enrol").status_code == 400  # no CSRF token
    assert db.session.scalar(select(Enrolment)) is None
    response = _enrol(client)
    assert response.status_code == 302
    assert "You are enrolled" in client.get("/courses/alpha").get_data(as_text=True)
    assert _enrol(client).status_code == 302  # twice: still one enrolment
    assert len(db.session.scalars(select(Enrolment)).all()) == 1
    assert client.post("/courses/ghost/enrol", data={"csrf_token": token}).status_code in (400, 404)


def test_enrol_refused_until_prerequisite_course_completed(app, client, course_tree, imported, learner, sign_in):
    course_tree.add("beta").edit("beta", "course.yaml", "prerequisites: []", "prerequisites: [alpha]")
    course_tree.edit("beta", "course.yaml", "title: Alpha course", "title: Beta course")
    imported()
    user = learner()
    sign_in(user)
    page = client.get("/courses/beta").get_data(as_text=True)
    assert "completed the prerequisite course" in page and "Enrol in this course" not in page
    response = _enrol(client, "beta")
    assert response.status_code == 302
    assert "Complete the prerequisite course(s) first: Alpha course." in client.get("/courses/beta").get_data(True)
    assert db.session.scalar(select(Enrolment)) is None

    alpha_id = db.session.scalar(select(Course.id).where(Course.slug == "alpha"))
    db.session.add(Enrolment(user_id=user.id, course_id=alpha_id, status="completed", completed_at=utcnow()))
    db.session.commit()
    _enrol(client, "beta")
    assert db.session.scalar(select(Enrolment).join(Course).where(Course.slug == "beta")).status == "active"


def test_lessons_need_enrolment(app, client, alpha, learner, sign_in):
    assert client.get("/courses/alpha/lessons/first").status_code == 302  # anonymous -> login
    sign_in(learner())
    response = client.get("/courses/alpha/lessons/first")
    assert response.status_code == 403 and "Enrol in this course" in response.get_data(as_text=True)
    _enrol(client)
    html = client.get("/courses/alpha/lessons/first").get_data(as_text=True)
    assert "<strong>first</strong>" in html and "<table>" in html and "Mark as done" in html
    assert client.get("/courses/alpha/lessons/nope").status_code == 404


def test_locked_module_until_prerequisite_module_done(app, client, alpha, learner, sign_in):
    sign_in(learner())
    _enrol(client)
    response = client.get("/courses/alpha/lessons/third")
    html = response.get_data(as_text=True)
    assert response.status_code == 403 and "still locked" in html and "Basics" in html
    token = form_token(client.get("/courses/alpha/lessons/first").get_data(as_text=True))
    assert client.post("/courses/alpha/lessons/third/done", data={"csrf_token": token}).status_code == 403
    _done(client, "first")
    assert client.get("/courses/alpha/lessons/third").status_code == 403
    _done(client, "second")
    assert client.get("/courses/alpha/lessons/third").status_code == 200


def test_staff_read_any_lesson_without_enrolling(app, client, alpha, learner, sign_in):
    sign_in(learner("instructor"))
    response = client.get("/courses/alpha/lessons/third")
    assert response.status_code == 200 and "progress is not recorded" in response.get_data(as_text=True)


def test_mark_done_and_dashboard_progress(app, client, alpha, learner, sign_in):
    user = learner()
    sign_in(user)
    assert client.get("/dashboard").status_code == 200
    _enrol(client)
    response = _done(client, "first")
    assert response.status_code == 302
    _done(client, "first")  # idempotent
    assert len(db.session.scalars(select(LessonCompletion)).all()) == 1
    html = client.get("/dashboard").get_data(as_text=True)
    # 1 of 4 required items (3 lessons + 1 quiz) = 25 %
    assert re.search(r'<progress[^>]*value="25"', html), html
    assert "Alpha course" in html and "1 / 3" in html
    course_html = client.get("/courses/alpha").get_data(as_text=True)
    assert "1 of 3 lessons done" in course_html


def test_dashboard_shows_only_own_courses(app, client, alpha, learner, sign_in):
    other = learner()
    db.session.add(Enrolment(user_id=other.id, course_id=alpha.id))
    db.session.commit()
    sign_in(learner())
    html = client.get("/dashboard").get_data(as_text=True)
    assert "not enrolled in any course" in html
    assert client.get("/dashboard").status_code == 200


def test_translated_content_falls_back_to_english(app, client, alpha, learner, sign_in):
    sign_in(learner())
    _enrol(client)
    with client.session_transaction() as session:
        session["locale"] = "zh_Hant"
    refresh()  # pytest-flask keeps one app context (and Babel's cached locale) for the whole test
    html = client.get("/courses/alpha/lessons/first").get_data(as_text=True)
    assert "第一課的內容" in html and "Hello from the" not in html
    html = client.get("/courses/alpha/lessons/second").get_data(as_text=True)
    assert "The second lesson links to" in html  # no zh_Hant file: English
    assert "阿爾法課程" in client.get("/courses/alpha").get_data(as_text=True)
    with client.session_transaction() as session:
        session["locale"] = "zh_Hans"  # no translation at all
    refresh()
    assert "Alpha course" in client.get("/courses/alpha").get_data(as_text=True)


def test_quiz_link_when_quiz_pages_exist(app, client, alpha, learner, sign_in):
    sign_in(learner())
    _enrol(client)
    _done(client, "first")
    _done(client, "second")
    html = client.get("/courses/alpha").get_data(as_text=True)
    quiz_id = alpha.modules[1].quizzes[0].id
    if "quizzes.quiz" in app.view_functions:
        assert f'href="/quizzes/{quiz_id}"' in html
    assert "Check" in html


def test_retired_course_stays_open_to_its_learners(app, client, alpha, learner, sign_in):
    user = learner()
    sign_in(user)
    _enrol(client)
    _done(client, "first")
    alpha.archived = True
    db.session.commit()
    html = client.get("/courses/alpha").get_data(as_text=True)
    assert "has been retired" in html and "Enrol in this course" not in html
    assert client.get("/courses/alpha/lessons/second").status_code == 200
    sign_in(learner())
    assert client.get("/courses/alpha").status_code == 404
    assert client.get("/courses/alpha/lessons/first").status_code == 404


@pytest.mark.parametrize("hours, shown", [("1", "1 hour<"), ("1.5", "1.5 hours<"), ("8", "8 hours<")])
def test_study_time_is_singular_or_plural(client, imported, course_tree, hours, shown):
    course_tree.edit("alpha", "course.yaml", "hours: 1.5", f"hours: {hours}")
    imported()
    for page in ("/courses", "/courses/alpha"):
        html = client.get(page).get_data(as_text=True)
        assert re.search(rf"· {re.escape(shown[:-1])}\s*<", html) or shown in html, page
