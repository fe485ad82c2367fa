"""Quiz attempts through HTTP: access, random draw, limits, resume, time limit, key never in the page."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lms import signals
from lms.extensions import db
from lms.models import AuditEvent, Question
from tests.fixtures.quizzes import bank


@pytest.fixture
def trainee(quiz_person, sign_in):
    user = quiz_person()
    sign_in(user)
    return user


def test_intro_shows_rules_and_start_button(quiz_factory, trainee, enrol, client):
    setup = quiz_factory(bank(8), draw_count=4, attempt_limit=3, pass_mark=80, time_limit_minutes=15)
    enrol(trainee, setup.course_id)
    html = client.get(f"/quizzes/{setup.quiz_id}").get_data(as_text=True)
    assert "Questions per attempt" in html and ">4<" in html
    assert "80%" in html and "15 minutes" in html
    assert "0 of 3" in html and "not taken yet" in html
    assert "Start the quiz" in html


def test_anonymous_is_sent_to_login(quiz_factory, client):
    setup = quiz_factory()
    response = client.get(f"/quizzes/{setup.quiz_id}")
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]


def test_not_enrolled_gets_403_on_every_quiz_route(quiz_factory, trainee, client, page_token, enrol, quiz_person,
                                                   sign_in, quiz_flow):
    setup = quiz_factory()
    response = client.get(f"/quizzes/{setup.quiz_id}")
    assert response.status_code == 403
    assert "Enrol in the course" in response.get_data(as_text=True)
    # Even with a valid CSRF token from another page, starting is refused.
    enrol(trainee, quiz_factory().course_id)
    token = page_token(client.get("/quizzes/").get_data(as_text=True))
    assert client.post(f"/quizzes/{setup.quiz_id}/start", data={"csrf_token": token}).status_code == 403
    withdrawn = quiz_person()
    enrol(withdrawn, setup.course_id, status="withdrawn")
    sign_in(withdrawn)
    assert client.get(f"/quizzes/{setup.quiz_id}").status_code == 403


def test_unknown_and_archived_quiz_are_404(quiz_factory, trainee, enrol, client, app):
    setup = quiz_factory()
    enrol(trainee, setup.course_id)
    assert client.get("/quizzes/999999").status_code == 404
    assert client.get("/quizzes/attempts/999999").status_code == 404
    with app.app_context():
        from lms.models import Quiz
        db.session.get(Quiz, setup.quiz_id).archived = True
        db.session.commit()
    assert client.get(f"/quizzes/{setup.quiz_id}").status_code == 404


def test_start_without_csrf_is_refused(quiz_factory, trainee, enrol, client):
    setup = quiz_factory()
    enrol(trainee, setup.course_id)
    assert client.post(f"/quizzes/{setup.quiz_id}/start").status_code == 400


def test_draw_size_active_questions_only_and_randomness(quiz_factory, trainee, enrol, quiz_flow, app, attempt_row):
    questions = bank(10) + [{"kind": "single", "prompt": "Retired?", "options": ["a", "b"], "answer": 0,
                             "archived": True}]
    setup = quiz_factory(questions, draw_count=3)
    enrol(trainee, setup.course_id)
    archived_id = setup.question_ids[-1]
    active = set(setup.question_ids[:-1])
    seen: set[int] = set()
    orders = set()
    for _ in range(30):
        attempt_id = quiz_flow.start_id(setup.quiz_id)
        html, ids = quiz_flow.sheet(attempt_id)
        stored = attempt_row(attempt_id)["question_ids"]
        assert ids == stored and len(ids) == 3 and len(set(ids)) == 3
        assert set(ids) <= active and archived_id not in ids
        seen.update(ids)
        orders.add(tuple(ids))
        assert quiz_flow.submit(attempt_id, {}).status_code == 302
    # 30 draws of 3 from 10: missing any one question has probability < 1e-3 overall.
    assert seen == active
    assert len(orders) > 10


def test_draw_larger_than_bank_uses_whole_bank(quiz_factory, trainee, enrol, quiz_flow):
    setup = quiz_factory(bank(2), draw_count=5)
    enrol(trainee, setup.course_id)
    _html, ids = quiz_flow.sheet(quiz_flow.start_id(setup.quiz_id))
    assert sorted(ids) == sorted(setup.question_ids)


def test_quiz_without_questions_says_so(quiz_factory, trainee, enrol, quiz_flow, client):
    setup = quiz_factory([])
    enrol(trainee, setup.course_id)
    response = quiz_flow.start(setup.quiz_id)
    assert response.status_code == 302
    assert "no questions yet" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_resume_open_attempt_instead_of_starting_another(quiz_factory, trainee, enrol, quiz_flow, client):
    setup = quiz_factory(bank(6), draw_count=3, attempt_limit=2)
    enrol(trainee, setup.course_id)
    first = quiz_flow.start_id(setup.quiz_id)
    second = quiz_flow.start_id(setup.quiz_id)
    assert first == second
    html = client.get(f"/quizzes/{setup.quiz_id}").get_data(as_text=True)
    assert "Continue your attempt" in html and f"/quizzes/attempts/{first}" in html
    assert "1 of 2" in html


def test_attempt_limit(quiz_factory, trainee, enrol, quiz_flow, client, app):
    setup = quiz_factory(bank(3), draw_count=3, attempt_limit=2)
    enrol(trainee, setup.course_id)
    for _ in range(2):
        assert quiz_flow.submit(quiz_flow.start_id(setup.quiz_id), {}).status_code == 302
    intro = client.get(f"/quizzes/{setup.quiz_id}").get_data(as_text=True)
    assert "used all your attempts" in intro and "Start a new attempt" not in intro
    response = client.post(f"/quizzes/{setup.quiz_id}/start",
                           data={"csrf_token": quiz_flow.token(intro)}, follow_redirects=True)
    assert "You have used all 2 attempts" in response.get_data(as_text=True)
    with app.app_context():
        from lms.models import QuizAttempt
        assert db.session.query(QuizAttempt).count() == 2


def test_key_and_explanations_only_after_submission(quiz_factory, trainee, enrol, quiz_flow, client):
    questions = [
        {"kind": "numeric", "prompt": "Cycle time in seconds?", "answer": 4321.5, "tolerance": 0.25,
         "explanation": "SECRET-EXPLANATION-NUMERIC"},
        {"kind": "text", "prompt": "Name the protocol.", "answer": ["ZebraProtocolKey"],
         "explanation": "SECRET-EXPLANATION-TEXT"},
        {"kind": "single", "prompt": "Pick one", "options": ["alpha", "beta"], "answer": 1,
         "explanation": "SECRET-EXPLANATION-SINGLE"},
    ]
    setup = quiz_factory(questions, draw_count=3)
    enrol(trainee, setup.course_id)
    attempt_id = quiz_flow.start_id(setup.quiz_id)
    html, _ids = quiz_flow.sheet(attempt_id)
    for secret in ("SECRET-EXPLANATION", "4321.5", "4321", "ZebraProtocolKey", "0.25", "correct"):
        assert secret not in html, secret
    assert client.get(f"/quizzes/attempts/{attempt_id}/result").status_code == 302  # not before submitting
    response = quiz_flow.submit(attempt_id, {})
    assert response.headers["Location"].endswith(f"/quizzes/attempts/{attempt_id}/result")
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    for shown in ("SECRET-EXPLANATION-NUMERIC", "SECRET-EXPLANATION-TEXT", "SECRET-EXPLANATION-SINGLE",
                  "ZebraProtocolKey", "beta", "(no answer)"):
        assert shown in result, shown
    # A submitted attempt's sheet now redirects to the result and cannot be submitted again.
    assert client.get(f"/quizzes/attempts/{attempt_id}").status_code == 302
    again = client.post(f"/quizzes/attempts/{attempt_id}", data={"csrf_token": quiz_flow.token(result)},
                        follow_redirects=True)
    assert "already submitted" in again.get_data(as_text=True)


def test_other_trainees_attempt_is_404(quiz_factory, quiz_person, sign_in, enrol, quiz_flow, client):
    setup = quiz_factory(bank(3), draw_count=3)
    alice, bob = quiz_person(), quiz_person()
    enrol(alice, setup.course_id)
    enrol(bob, setup.course_id)
    sign_in(alice)
    open_id = quiz_flow.start_id(setup.quiz_id)
    done_id = open_id
    quiz_flow.submit(done_id, {})
    open_id = quiz_flow.start_id(setup.quiz_id)
    token = quiz_flow.token(quiz_flow.sheet(open_id)[0])
    sign_in(bob)
    for attempt_id in (done_id, open_id):
        assert client.get(f"/quizzes/attempts/{attempt_id}").status_code == 404
        assert client.get(f"/quizzes/attempts/{attempt_id}/result").status_code == 404
    bob_token = quiz_flow.token(client.get(f"/quizzes/{setup.quiz_id}").get_data(as_text=True))
    assert client.post(f"/quizzes/attempts/{open_id}", data={"csrf_token": bob_token}).status_code == 404
    assert token  # alice's open attempt is untouched:
    sign_in(alice)
    assert client.get(f"/quizzes/attempts/{open_id}").status_code == 200


def test_time_limit_expiry(quiz_factory, trainee, enrol, quiz_flow, client, attempt_row, monkeypatch):
    from lms.quizzes import clock

    setup = quiz_factory(bank(2), draw_count=2, time_limit_minutes=10)
    enrol(trainee, setup.course_id)
    start = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(clock, "now", lambda: start)
    attempt_id = quiz_flow.start_id(setup.quiz_id)
    html, ids = quiz_flow.sheet(attempt_id)
    assert 'data-seconds-left="600"' in html and 'src="/quizzes/static/timer.js"' in html
    with client.get("/quizzes/static/timer.js") as static:
        assert static.status_code == 200
    assert attempt_row(attempt_id)["deadline"] == start + timedelta(minutes=10)
    answers = {f"q-{qid}": "1" for qid in ids}
    # Inside the 30 s grace after the deadline: still scored.
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(minutes=10, seconds=30))
    assert quiz_flow.submit(attempt_id, answers).status_code == 302
    row = attempt_row(attempt_id)
    assert row["status"] == "submitted" and row["percent"] == 100.0

    # One second past the grace: expired, scored 0, answers ignored, clearly shown.
    monkeypatch.setattr(clock, "now", lambda: start)
    late_id = quiz_flow.start_id(setup.quiz_id)
    html, ids = quiz_flow.sheet(late_id)
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(minutes=10, seconds=31))
    response = quiz_flow.client.post(f"/quizzes/attempts/{late_id}",
                                     data={**{f"q-{q}": "1" for q in ids}, "csrf_token": quiz_flow.token(html)})
    assert response.status_code == 302
    row = attempt_row(late_id)
    assert row["status"] == "expired" and row["percent"] == 0.0 and row["passed"] is False
    assert row["answers"] == {}
    result = client.get(f"/quizzes/attempts/{late_id}/result").get_data(as_text=True)
    assert "Time ran out" in result and "scored 0" in result


def test_abandoned_timed_attempt_expires_when_trainee_returns(quiz_factory, trainee, enrol, quiz_flow, client,
                                                              attempt_row, monkeypatch):
    from lms.quizzes import clock

    setup = quiz_factory(bank(2), draw_count=2, time_limit_minutes=5, attempt_limit=2)
    enrol(trainee, setup.course_id)
    start = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(clock, "now", lambda: start)
    first = quiz_flow.start_id(setup.quiz_id)
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(hours=1))
    assert client.get(f"/quizzes/attempts/{first}").status_code == 302
    assert attempt_row(first)["status"] == "expired"
    second = quiz_flow.start_id(setup.quiz_id)  # a new attempt, not the expired one
    assert second != first and attempt_row(second)["status"] == "open"
    assert "2 of 2" in client.get(f"/quizzes/{setup.quiz_id}").get_data(as_text=True)


def test_signals_and_audit_after_scoring(quiz_factory, trainee, enrol, quiz_flow, app):
    setup = quiz_factory(bank(2), draw_count=2, pass_mark=50)
    enrol(trainee, setup.course_id)
    received = []

    def on_quiz(sender, **kwargs):
        received.append(("quiz", sender, kwargs))

    def on_progress(sender, **kwargs):
        received.append(("progress", sender, kwargs))

    signals.quiz_submitted.connect(on_quiz)
    signals.progress_changed.connect(on_progress)
    try:
        attempt_id = quiz_flow.start_id(setup.quiz_id)
        _html, ids = quiz_flow.sheet(attempt_id)
        quiz_flow.submit(attempt_id, {f"q-{ids[0]}": "1", f"q-{ids[1]}": "0"})
    finally:
        signals.quiz_submitted.disconnect(on_quiz)
        signals.progress_changed.disconnect(on_progress)
    assert [kind for kind, _s, _k in received] == ["quiz", "progress"]
    assert received[0][1] is app
    assert received[0][2] == {"user_id": trainee.id, "course_id": setup.course_id, "quiz_id": setup.quiz_id,
                              "attempt_id": attempt_id, "percent": 50.0, "passed": True}
    assert received[1][2] == {"user_id": trainee.id, "course_id": setup.course_id}
    with app.app_context():
        event = db.session.query(AuditEvent).filter_by(action="quiz.submitted").one()
        assert event.actor_id == trainee.id and event.detail["percent"] == 50.0 and event.detail["passed"]


def test_failing_listener_does_not_lose_the_grade(quiz_factory, trainee, enrol, quiz_flow, attempt_row):
    setup = quiz_factory(bank(1), draw_count=1)
    enrol(trainee, setup.course_id)

    def broken(sender, **kwargs):
        raise RuntimeError("listener bug")

    signals.quiz_submitted.connect(broken)
    try:
        attempt_id = quiz_flow.start_id(setup.quiz_id)
        _html, ids = quiz_flow.sheet(attempt_id)
        assert quiz_flow.submit(attempt_id, {f"q-{ids[0]}": "1"}).status_code == 302
    finally:
        signals.quiz_submitted.disconnect(broken)
    assert attempt_row(attempt_id)["percent"] == 100.0


def test_my_quizzes_page_and_shared_queries(quiz_factory, trainee, enrol, quiz_flow, client, app):
    setup = quiz_factory(bank(2), draw_count=2, pass_mark=100)
    other = quiz_factory(bank(1), draw_count=1, course_slug=setup.course_slug)
    enrol(trainee, setup.course_id)
    attempt_id = quiz_flow.start_id(setup.quiz_id)
    _html, ids = quiz_flow.sheet(attempt_id)
    quiz_flow.submit(attempt_id, {f"q-{ids[0]}": "1"})  # 50%
    attempt_id = quiz_flow.start_id(setup.quiz_id)
    _html, ids = quiz_flow.sheet(attempt_id)
    quiz_flow.submit(attempt_id, {f"q-{i}": "1" for i in ids})  # 100%
    quiz_flow.start_id(other.quiz_id)  # open attempts do not count
    html = client.get("/quizzes/").get_data(as_text=True)
    assert "Course" in html and "100%" in html and "Passed" in html and "not taken" in html
    from lms.quizzes.queries import passed_quiz_slugs, quiz_results

    with app.app_context():
        results = {r["quiz_id"]: r for r in quiz_results(trainee.id, setup.course_id)}
        assert results[setup.quiz_id]["best_percent"] == 100.0 and results[setup.quiz_id]["attempts"] == 2
        assert results[setup.quiz_id]["passed"] is True
        assert results[other.quiz_id] == {"quiz_id": other.quiz_id, "slug": results[other.quiz_id]["slug"],
                                          "title": results[other.quiz_id]["title"], "best_percent": None,
                                          "attempts": 0, "passed": False}
        assert passed_quiz_slugs(trainee.id, setup.course_id) == {results[setup.quiz_id]["slug"]}


def test_archived_question_keeps_old_attempt_readable(quiz_factory, trainee, enrol, quiz_flow, client, app):
    setup = quiz_factory(bank(1), draw_count=1)
    enrol(trainee, setup.course_id)
    attempt_id = quiz_flow.start_id(setup.quiz_id)
    quiz_flow.submit(attempt_id, {f"q-{setup.question_ids[0]}": "1"})
    with app.app_context():
        db.session.get(Question, setup.question_ids[0]).archived = True
        db.session.commit()
    page = client.get(f"/quizzes/attempts/{attempt_id}/result")
    assert page.status_code == 200 and "Explanation 0." in page.get_data(as_text=True)


def test_quiz_in_locked_module_is_refused_until_prerequisite_done(quiz_factory, trainee, enrol, quiz_flow, client):
    learning = pytest.importorskip("lms.learning.queries")
    if not hasattr(learning, "module_locked") and not hasattr(learning, "course_progress"):
        pytest.skip("the learning package does not report module locks yet")
    first = quiz_factory(bank(1), draw_count=1)
    second = quiz_factory(bank(1), draw_count=1, course_slug=first.course_slug,
                          module_prerequisites=[first.module_slug])
    enrol(trainee, first.course_id)
    response = client.get(f"/quizzes/{second.quiz_id}")
    assert response.status_code == 403 and "locked module" in response.get_data(as_text=True)
    attempt_id = quiz_flow.start_id(first.quiz_id)
    quiz_flow.submit(attempt_id, {f"q-{first.question_ids[0]}": "1"})
    assert client.get(f"/quizzes/{second.quiz_id}").status_code == 200


def test_unreadable_answer_in_the_grace_period_scores_nothing(quiz_factory, trainee, enrol, quiz_flow, attempt_row,
                                                              monkeypatch):
    from lms.quizzes import clock

    setup = quiz_factory([{"kind": "numeric", "answer": 5}, {"kind": "single", "options": ["a", "b"], "answer": 0}],
                         draw_count=2, time_limit_minutes=1)
    enrol(trainee, setup.course_id)
    start = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(clock, "now", lambda: start)
    attempt_id = quiz_flow.start_id(setup.quiz_id)
    numeric, single = setup.question_ids
    # Before the deadline the form comes back for correction...
    assert quiz_flow.submit(attempt_id, {f"q-{numeric}": "five", f"q-{single}": "0"}).status_code == 400
    # ...after it (the timer's automatic submit) what can be read is scored and the rest counts as unanswered.
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(seconds=75))
    assert quiz_flow.submit(attempt_id, {f"q-{numeric}": "five", f"q-{single}": "0"}).status_code == 302
    row = attempt_row(attempt_id)
    assert row["status"] == "submitted" and row["percent"] == 50.0
    assert row["answers"] == {str(numeric): None, str(single): 0}
