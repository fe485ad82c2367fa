"""Course completion from lessons, quizzes and labs (a fake completion source stands in for grading)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms import signals
from lms.extensions import db
from lms.learning import queries
from lms.learning.completion import check_completion
from lms.models import Course, Enrolment, LessonCompletion, Quiz, QuizAttempt
from tests.fixtures.content import form_token

pytestmark = pytest.mark.usefixtures("release_session")


@pytest.fixture
def alpha(app, imported):
    imported()
    return db.session.scalar(select(Course).where(Course.slug == "alpha"))


@pytest.fixture
def completions(app):
    seen: list[dict] = []

    def receiver(sender, **kwargs):
        seen.append(kwargs)

    signals.course_completed.connect(receiver, sender=app)
    yield seen
    signals.course_completed.disconnect(receiver, sender=app)


@pytest.fixture
def lab_results(app):
    """A fake completion source (what grading registers): results[(user_id, course_slug)] = [lab dicts]."""
    results: dict[tuple[int, str], list[dict]] = {}

    def source(user_id: int, course_slug: str) -> list[dict]:
        return list(results.get((user_id, course_slug), []))

    sources = app.extensions.setdefault("nia.completion_sources", [])
    sources.append(source)
    yield results
    sources.remove(source)


def _enrol_and_read_all(client, sign_in, user):
    sign_in(user)
    page = client.get("/courses/alpha").get_data(as_text=True)
    client.post("/courses/alpha/enrol", data={"csrf_token": form_token(page)})
    for lesson in ("first", "second", "third"):
        html = client.get(f"/courses/alpha/lessons/{lesson}").get_data(as_text=True)
        response = client.post(f"/courses/alpha/lessons/{lesson}/done", data={"csrf_token": form_token(html)})
        assert response.status_code == 302


def _pass_quiz(app, user_id: int, percent: float = 80.0) -> None:
    quiz = db.session.scalar(select(Quiz))
    db.session.add(QuizAttempt(user_id=user_id, quiz_id=quiz.id, status="submitted", passed=percent >= 50,
                               score=percent / 50, max_score=2, percent=percent))
    db.session.commit()
    signals.progress_changed.send(app, user_id=user_id, course_id=quiz.module.course_id)
    db.session.commit()


def test_course_completes_when_lessons_done_and_quiz_passed(app, client, alpha, learner, sign_in, completions):
    user = learner()
    sign_in(user)
    page = client.get("/courses/alpha").get_data(as_text=True)
    client.post("/courses/alpha/enrol", data={"csrf_token": form_token(page)})
    _pass_quiz(app, user.id, percent=40)  # a failed attempt does not count
    _pass_quiz(app, user.id, percent=90)
    assert completions == []
    for lesson in ("first", "second", "third"):
        html = client.get(f"/courses/alpha/lessons/{lesson}").get_data(as_text=True)
        client.post(f"/courses/alpha/lessons/{lesson}/done", data={"csrf_token": form_token(html)})
    assert len(completions) == 1
    event = completions[0]
    assert event["user_id"] == user.id and event["course_id"] == alpha.id
    assert event["evidence"] == [{"type": "quiz", "slug": "check", "title": "Check", "score": 1.8, "max_score": 2,
                                  "passed": True}]
    db.session.expire_all()
    enrolment = db.session.scalar(select(Enrolment))
    assert enrolment.status == "completed" and enrolment.completed_at is not None
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Completed" in html and re.search(r'<progress[^>]*value="100"', html)
    assert check_completion(user.id, alpha.id) is False and len(completions) == 1  # recorded once


def test_lab_requirement_uses_completion_sources(app, client, alpha, learner, sign_in, completions, lab_results):
    alpha.modules[1].labs = ["oee-shift"]
    db.session.commit()
    user = learner()
    _enrol_and_read_all(client, sign_in, user)
    _pass_quiz(app, user.id)
    assert completions == []  # the lab is still missing
    progress = queries.course_progress(user.id, alpha)
    assert (progress["labs_total"], progress["labs_passed"], progress["criteria_met"]) == (1, 0, False)

    lab = {"type": "lab", "slug": "oee-shift", "title": "OEE of a shift", "score": 4, "max_score": 10,
           "passed": False}
    lab_results[(user.id, "alpha")] = [lab]
    signals.lab_graded.send(app, user_id=user.id, course_slug="alpha", lab_slug="oee-shift", submission_id=1,
                            score=4, max_score=10, passed=False)
    assert completions == []
    lab_results[(user.id, "alpha")] = [lab, {**lab, "score": 9, "passed": True}]
    signals.lab_graded.send(app, user_id=user.id, course_slug="alpha", lab_slug="oee-shift", submission_id=2,
                            score=9, max_score=10, passed=True)
    db.session.commit()
    assert len(completions) == 1
    evidence = {e["type"]: e for e in completions[0]["evidence"]}
    assert evidence["lab"] == {"type": "lab", "slug": "oee-shift", "title": "OEE of a shift", "score": 9,
                               "max_score": 10, "passed": True}
    assert evidence["quiz"]["slug"] == "check"


def test_completion_criteria_can_skip_quizzes(app, client, course_tree, imported, learner, sign_in, completions):
    course_tree.edit("alpha", "course.yaml", "translations:\n", "completion: {lessons: all, quizzes: none}\n"
                                                                 "translations:\n")
    imported()
    user = learner()
    _enrol_and_read_all(client, sign_in, user)
    assert len(completions) == 1 and completions[0]["evidence"] == []


def test_not_enrolled_never_completes(app, alpha, learner, completions):
    user = learner()
    for lesson in (lesson for m in alpha.modules for lesson in m.lessons):
        db.session.add(LessonCompletion(user_id=user.id, lesson_id=lesson.id))
    db.session.commit()
    _pass_quiz(app, user.id)
    assert check_completion(user.id, alpha.id) is False and completions == []


def test_queries_for_other_packages(app, client, alpha, learner, sign_in):
    user, other = learner(), learner()
    sign_in(user)
    page = client.get("/courses/alpha").get_data(as_text=True)
    client.post("/courses/alpha/enrol", data={"csrf_token": form_token(page)})
    assert queries.is_enrolled(user.id, "alpha") and not queries.is_enrolled(other.id, "alpha")
    assert not queries.is_enrolled(user.id, "ghost")
    assert queries.enrolled_user_ids(alpha.id) == [user.id]
    info = queries.course_info(alpha.id)
    assert info["title"] == "Alpha course" and info["slug"] == "alpha"
    assert info["achievement"]["name"] == "Alpha achievement" and info["recertify_months"] is None
    assert queries.course_info(999999) is None
    advanced = alpha.modules[1]
    assert queries.module_locked(user.id, advanced.id) and not queries.module_locked(user.id, alpha.modules[0].id)
    progress = queries.course_progress(user.id, alpha)
    assert progress["enrolled"] and progress["lessons_total"] == 3 and progress["quizzes_total"] == 1
    assert progress["percent"] == 0.0 and [m["unlocked"] for m in progress["modules"]] == [True, False]
    assert progress["next_lesson"] == "first"
