"""Scoring of each question kind and malformed answers, all through the quiz pages."""
from __future__ import annotations

import html as htmllib
import re

import pytest
from werkzeug.datastructures import MultiDict

from lms.quizzes.scoring import normalise_text


@pytest.fixture
def scorer(quiz_factory, quiz_person, sign_in, enrol, quiz_flow, attempt_row):
    """scorer(question) -> score(values) giving the stored percent of a fresh attempt answering `values`."""
    trainee = quiz_person()
    sign_in(trainee)

    def _for(question: dict):
        setup = quiz_factory([question], draw_count=1)
        enrol(trainee, setup.course_id)
        qid = setup.question_ids[0]

        def score(*values: str) -> float:
            attempt_id = quiz_flow.start_id(setup.quiz_id)
            response = quiz_flow.submit(attempt_id, [(f"q-{qid}", v) for v in values])
            assert response.status_code == 302, (values, response.get_data(as_text=True)[:400])
            row = attempt_row(attempt_id)
            assert row["status"] == "submitted"
            return row["percent"]

        return score

    return _for


def test_single_choice(scorer):
    score = scorer({"kind": "single", "options": ["a", "b", "c"], "answer": 1})
    assert score("1") == 100.0
    assert score("0") == 0.0
    assert score() == 0.0  # unanswered is allowed and scores nothing


def test_multiple_choice_is_all_or_nothing(scorer):
    score = scorer({"kind": "multiple", "options": ["a", "b", "c", "d"], "answer": [0, 2]})
    assert score("0", "2") == 100.0
    assert score("2", "0") == 100.0
    assert score("0", "0", "2") == 100.0
    assert score("0") == 0.0
    assert score("0", "1", "2") == 0.0
    assert score() == 0.0


def test_numeric_tolerance_edges_are_inclusive(scorer):
    score = scorer({"kind": "numeric", "answer": 9.81, "tolerance": 0.05})
    for accepted in ("9.81", "9.76", "9.86", " 9.8 ", "+9.81", "981e-2", "９.８１", "9.810000"):
        assert score(accepted) == 100.0, accepted
    for rejected in ("9.7599", "9.8601", "-9.81", "0"):
        assert score(rejected) == 0.0, rejected


def test_numeric_decimal_edges_and_zero_tolerance(scorer):
    # 0.3 ± 0.1 in binary floats would reject 0.4; the rule is decimal.
    score = scorer({"kind": "numeric", "answer": 0.3, "tolerance": 0.1})
    assert score("0.4") == 100.0 and score("0.2") == 100.0 and score("0.41") == 0.0
    exact = scorer({"kind": "numeric", "answer": 12, "tolerance": 0})
    assert exact("12") == 100.0 and exact("12.0") == 100.0 and exact("12.000001") == 0.0


def test_text_normalisation(scorer):
    score = scorer({"kind": "text", "answer": ["Unified Namespace", "UNS"],
                    "translations": {"zh_Hant": {"answer": ["統一命名空間"]}}})
    for accepted in ("unified   namespace", "  UNS ", "ＵＮＳ", "Unified\tNamespace", "UNIFIED NAMESPACE",
                     "統一命名空間"):
        assert score(accepted) == 100.0, accepted
    for rejected in ("unified namespaces", "U N S", "namespace"):
        assert score(rejected) == 0.0, rejected
    assert score("") == 0.0


def test_normalise_text_rules():
    assert normalise_text("  Ａｂｃ \n  DEF\t") == "abc def"
    assert normalise_text("Straße") == normalise_text("STRASSE")


def test_points_weighting_and_pass_mark(quiz_factory, quiz_person, sign_in, enrol, quiz_flow, attempt_row, client):
    setup = quiz_factory([
        {"kind": "single", "options": ["x", "y"], "answer": 0, "points": 3},
        {"kind": "single", "options": ["x", "y"], "answer": 0, "points": 1},
    ], draw_count=2, pass_mark=75)
    trainee = quiz_person()
    sign_in(trainee)
    enrol(trainee, setup.course_id)
    heavy, light = setup.question_ids
    attempt_id = quiz_flow.start_id(setup.quiz_id)
    quiz_flow.submit(attempt_id, {f"q-{heavy}": "0", f"q-{light}": "1"})
    row = attempt_row(attempt_id)
    assert (row["score"], row["max_score"], row["percent"], row["passed"]) == (3.0, 4.0, 75.0, True)
    page = client.get(f"/quizzes/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "Score: 3 of 4 points (75%)" in page and "Passed" in page


@pytest.fixture
def mixed(quiz_factory, quiz_person, sign_in, enrol, quiz_flow):
    setup = quiz_factory([
        {"kind": "single", "prompt": "Pick", "options": ["a", "b"], "answer": 1},
        {"kind": "multiple", "prompt": "Pick many", "options": ["a", "b", "c"], "answer": [0, 1]},
        {"kind": "numeric", "prompt": "How many?", "answer": 42, "tolerance": 0},
        {"kind": "text", "prompt": "Say it", "answer": ["mqtt"]},
    ], draw_count=4)
    trainee = quiz_person()
    sign_in(trainee)
    enrol(trainee, setup.course_id)
    return setup, quiz_flow.start_id(setup.quiz_id)


def _post(quiz_flow, attempt_id, data):
    html, _ids = quiz_flow.sheet(attempt_id)
    return quiz_flow.client.post(f"/quizzes/attempts/{attempt_id}",
                                 data=MultiDict([*data, ("csrf_token", quiz_flow.token(html))]))


@pytest.mark.parametrize("field, values, message", [
    ("numeric", ["forty-two"], "Enter a number"),
    ("numeric", ["nan"], "Enter a number"),
    ("numeric", ["inf"], "Enter a number"),
    ("numeric", ["4,2"], "Enter a number"),
    ("numeric", ["1", "2"], "single answer"),
    ("single", ["7"], "Choose one of the options"),
    ("single", ["-1"], "Choose one of the options"),
    ("single", ["b"], "Choose one of the options"),
    ("single", ["0", "1"], "only one option"),
    ("multiple", ["0", "9"], "Choose one of the options"),
    ("text", ["x" * 501], "under 500 characters"),
])
def test_malformed_answer_shows_the_form_again_and_keeps_input(mixed, quiz_flow, attempt_row, field, values,
                                                               message):
    setup, attempt_id = mixed
    single, multiple, numeric, text = setup.question_ids
    ids = {"single": single, "multiple": multiple, "numeric": numeric, "text": text}
    good = {"single": ["1"], "multiple": ["0", "1"], "numeric": ["42"], "text": ["MQTT here"]}
    good[field] = values
    response = _post(quiz_flow, attempt_id, [(f"q-{ids[k]}", v) for k, vs in good.items() for v in vs])
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in htmllib.unescape(page)
    assert f'id="q-{ids[field]}-error"' in page
    # Everything typed is still there.
    if field != "single":
        assert re.search(rf'id="q-{single}-1"[^>]*checked', page)
        assert not re.search(rf'id="q-{single}-0"[^>]*checked', page)
    if field != "multiple":
        assert re.search(rf'id="q-{multiple}-0"[^>]*checked', page)
        assert re.search(rf'id="q-{multiple}-1"[^>]*checked', page)
    if field != "numeric":
        assert 'value="42"' in page
    if field != "text":
        assert 'value="MQTT here"' in page
    if field == "numeric" and len(values) == 1:
        assert f'value="{htmllib.escape(values[0])}"' in page
    row = attempt_row(attempt_id)
    assert row["status"] == "open" and row["answers"] == {} and row["submitted_at"] is None
    # Fixing the answer then submits normally.
    good = {"single": ["1"], "multiple": ["0", "1"], "numeric": ["42"], "text": ["mqtt"]}
    fixed = _post(quiz_flow, attempt_id, [(f"q-{ids[k]}", v) for k, vs in good.items() for v in vs])
    assert fixed.status_code == 302
    assert attempt_row(attempt_id)["percent"] == 100.0


def test_answers_to_questions_not_in_the_attempt_are_refused(mixed, quiz_flow, attempt_row, quiz_factory):
    setup, attempt_id = mixed
    foreign = quiz_factory().question_ids[0]
    for bogus in (f"q-{foreign}", "q-abc", "q-"):
        response = _post(quiz_flow, attempt_id, [(bogus, "1"), (f"q-{setup.question_ids[2]}", "41")])
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "not part of this attempt" in page and 'value="41"' in page
    assert attempt_row(attempt_id)["status"] == "open"
