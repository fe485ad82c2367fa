"""Instructor pages: course list with enrolment counts, gradebook, CSV export, permissions."""
from __future__ import annotations

import csv
import io

import pytest

from lms.extensions import db
from lms.models import QuizAttempt
from tests.fixtures.quizzes import bank


@pytest.fixture
def record_attempt(app):
    def _record(user, quiz_id: int, percent: float, passed: bool, status: str = "submitted") -> None:
        with app.app_context():
            db.session.add(QuizAttempt(user_id=user.id, quiz_id=quiz_id, question_ids=[], answers={}, results={},
                                       score=percent, max_score=100, percent=percent, passed=passed, status=status))
            db.session.commit()

    return _record


@pytest.fixture
def course_with_class(quiz_factory, quiz_person, enrol, record_attempt):
    first = quiz_factory(bank(2), title="Topics and QoS")
    second = quiz_factory(bank(2), title="Retained messages", course_slug=first.course_slug)
    ada = quiz_person(name="Ada Lovelace", email="ada@example.test")
    bo = quiz_person(name="Bo Chan", email="bo@example.test")
    gone = quiz_person(name="Withdrawn Person")
    outsider = quiz_person(name="Not Enrolled Person")
    staff = quiz_person(role="instructor", name="Enrolled Instructor")
    enrol(ada, first.course_id)
    enrol(bo, first.course_id, status="completed")
    enrol(gone, first.course_id, status="withdrawn")
    enrol(staff, first.course_id)
    record_attempt(ada, first.quiz_id, 40.0, False)
    record_attempt(ada, first.quiz_id, 90.0, True)
    record_attempt(ada, first.quiz_id, 0.0, False, status="open")  # in progress: not a result
    record_attempt(bo, second.quiz_id, 55.0, False, status="expired")
    record_attempt(outsider, first.quiz_id, 100.0, True)
    return {"course_id": first.course_id, "slug": first.course_slug, "quizzes": (first.quiz_id, second.quiz_id),
            "ada": ada, "bo": bo, "outsider": outsider}


@pytest.fixture
def instructor(quiz_person, sign_in):
    user = quiz_person(role="instructor", name="Ms Instructor")
    sign_in(user)
    return user


def test_pages_require_staff(course_with_class, client, quiz_person, sign_in):
    slug = course_with_class["slug"]
    paths = ["/instructor/", f"/instructor/courses/{slug}/gradebook", f"/instructor/courses/{slug}/gradebook.csv"]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login" in response.headers["Location"], path
    sign_in(quiz_person())
    for path in paths:
        assert client.get(path).status_code == 403, path
    for role in ("instructor", "admin"):
        sign_in(quiz_person(role=role))
        for path in paths:
            assert client.get(path).status_code == 200, (role, path)


def test_unknown_course_is_404(instructor, client):
    assert client.get("/instructor/courses/no-such-course/gradebook").status_code == 404
    assert client.get("/instructor/courses/no-such-course/gradebook.csv").status_code == 404


def test_course_list_with_enrolment_counts(course_with_class, quiz_factory, instructor, client):
    empty = quiz_factory()
    html = client.get("/instructor/").get_data(as_text=True)
    row = html[html.index(f"({course_with_class['slug']})"):]
    row = row[:row.index("</tr>")]
    # ada + bo (completed) + the enrolled instructor; the withdrawn enrolment does not count.
    assert "<td>3</td>" in row and "<td>1</td>" in row
    empty_row = html[html.index(f"({empty.course_slug})"):]
    assert "<td>0</td>" in empty_row[:empty_row.index("</tr>")]
    assert f"/instructor/courses/{course_with_class['slug']}/gradebook" in html


def test_staff_nav_entry(instructor, client, quiz_person, sign_in):
    assert 'href="/instructor/"' in client.get("/quizzes/").get_data(as_text=True)
    sign_in(quiz_person())
    assert 'href="/instructor/"' not in client.get("/quizzes/").get_data(as_text=True)


def test_gradebook_page(course_with_class, instructor, client):
    html = client.get(f"/instructor/courses/{course_with_class['slug']}/gradebook").get_data(as_text=True)
    assert "Ada Lovelace" in html and "Bo Chan" in html
    for absent in ("Withdrawn Person", "Not Enrolled Person", "Enrolled Instructor"):
        assert absent not in html
    assert "Topics and QoS" in html and "Retained messages" in html
    with client.get("/instructor/static/instructor.css") as static:
        assert static.status_code == 200
    ada = html[html.index("Ada Lovelace"):html.index("Bo Chan")]
    assert "90%" in ada and "2 attempts" in ada and "passed" in ada
    bo = html[html.index("Bo Chan"):]
    assert "55%" in bo and "1 attempt" in bo and "not passed" in bo and "not taken" in bo


def _csv(client, slug):
    response = client.get(f"/instructor/courses/{slug}/gradebook.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{slug}-gradebook.csv"'
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_gradebook_csv_content(course_with_class, instructor, client):
    rows = _csv(client, course_with_class["slug"])
    assert rows[0] == ["Name", "Email", "Enrolled", "Status",
                       "Topics and QoS: best %", "Topics and QoS: attempts", "Topics and QoS: passed",
                       "Retained messages: best %", "Retained messages: attempts", "Retained messages: passed"]
    body = {row[0]: row for row in rows[1:]}
    assert set(body) == {"Ada Lovelace", "Bo Chan"}
    assert body["Ada Lovelace"][1] == "ada@example.test" and body["Ada Lovelace"][3] == "active"
    assert body["Ada Lovelace"][4:] == ["90.0", "2", "yes", "", "0", ""]
    assert body["Bo Chan"][3] == "completed"
    assert body["Bo Chan"][4:] == ["", "0", "", "55.0", "1", "no"]


def test_csv_is_safe_from_formula_injection(quiz_factory, quiz_person, enrol, instructor, client, app,
                                            monkeypatch):
    setup = quiz_factory(title="=cmd|' /C calc'!A0")
    names = ["=HYPERLINK(\"http://evil\")", "+SUM(1,2)", "-2+3", "@SUM(A1)", "\tTabbed", "Plain 名字"]
    users = [quiz_person(name=name) for name in names]
    for user in users:
        enrol(user, setup.course_id)

    def lab_columns(course_slug, user_ids):
        assert course_slug == setup.course_slug and sorted(user_ids) == sorted(u.id for u in users)
        return ["Lab 1"], {uid: {"Lab 1": "=1+1"} for uid in user_ids}

    monkeypatch.setitem(app.extensions, "nia.gradebook_columns", [lab_columns])
    rows = _csv(client, setup.course_slug)
    assert rows[0][4] == "'=cmd|' /C calc'!A0: best %" and rows[0][-1] == "Lab 1"
    first_cells = sorted(row[0] for row in rows[1:])
    assert first_cells == sorted(["'=HYPERLINK(\"http://evil\")", "'+SUM(1,2)", "'-2+3", "'@SUM(A1)", "'\tTabbed",
                                  "Plain 名字"])
    assert all(row[-1] == "'=1+1" for row in rows[1:])
    html = client.get(f"/instructor/courses/{setup.course_slug}/gradebook").get_data(as_text=True)
    assert "Lab 1" in html and "=1+1" in html  # shown as text on the page, escaped by the template


def test_empty_gradebook(quiz_factory, instructor, client):
    setup = quiz_factory()
    assert "No trainee is enrolled" in client.get(
        f"/instructor/courses/{setup.course_slug}/gradebook").get_data(as_text=True)
    rows = _csv(client, setup.course_slug)
    assert len(rows) == 1


@pytest.mark.parametrize("role, status", [("trainee", 403), ("instructor", 200), ("admin", 200)])
def test_through_the_real_login_form(quiz_factory, make_user, login, client, role, status):
    setup = quiz_factory()
    login(make_user(role=role))
    assert client.get(f"/instructor/courses/{setup.course_slug}/gradebook.csv").status_code == status
    assert client.get("/instructor/").status_code == status


def test_instructor_reviews_a_trainees_attempts(quiz_factory, quiz_person, sign_in, enrol, quiz_flow, client):
    setup = quiz_factory([{"kind": "text", "prompt": "Protocol?", "answer": ["MQTT"], "explanation": "Why MQTT."}],
                         draw_count=1)
    other_course = quiz_factory()
    ada = quiz_person(name="Ada Lovelace")
    enrol(ada, setup.course_id)
    sign_in(ada)
    done = quiz_flow.start_id(setup.quiz_id)
    quiz_flow.submit(done, {f"q-{setup.question_ids[0]}": "amqp"})
    still_open = quiz_flow.start_id(setup.quiz_id)
    sign_in(quiz_person(role="instructor"))
    book = client.get(f"/instructor/courses/{setup.course_slug}/gradebook").get_data(as_text=True)
    trainee_url = f"/instructor/courses/{setup.course_slug}/trainees/{ada.id}"
    assert trainee_url in book
    page = client.get(trainee_url).get_data(as_text=True)
    review_url = f"/instructor/courses/{setup.course_slug}/attempts/{done}"
    assert review_url in page and f"/attempts/{still_open}" not in page
    review = client.get(review_url).get_data(as_text=True)
    for shown in ("amqp", "MQTT", "Why MQTT.", "Trainee's answer", "Ada Lovelace"):
        assert shown in review, shown
    assert client.get(f"/instructor/courses/{setup.course_slug}/attempts/{still_open}").status_code == 404
    assert client.get(f"/instructor/courses/{other_course.course_slug}/attempts/{done}").status_code == 404
    assert client.get(f"/instructor/courses/{setup.course_slug}/trainees/999999").status_code == 404
    sign_in(ada)
    assert client.get(review_url).status_code == 403 and client.get(trainee_url).status_code == 403
