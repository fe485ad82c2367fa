"""Grading results in-process: scores per cell, feedback without hidden tests, provenance, late penalty, seeds."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fixtures.grading import SOLUTION, with_answer

pytestmark = [pytest.mark.slow, pytest.mark.bwrap]


def test_solution_scores_full_marks_with_provenance(app, grading_trainee, grading_run, grading_state):
    sid, status = grading_run(grading_trainee, with_answer(app, SOLUTION))
    state = grading_state(sid)
    assert status == "graded", state["error"]
    assert (state["score"], state["max"]) == (5.0, 5.0)
    assert state["cells"]["test-availability"]["score"] == 2.0
    assert state["cells"]["test-oee"]["score"] == 3.0
    prov = state["provenance"]
    assert prov["nbgrader"] == "0.9.6"
    assert prov["sandbox"].startswith("bwrap:")
    assert len(prov["test_suite_sha256"]) == 64 and prov["seed"] > 0 and prov["duration_s"] > 0
    assert prov["scenario"] == "normal-shift"


def test_partial_credit_and_hidden_tests_stripped(app, grading_trainee, grading_run, grading_state):
    wrong_oee = SOLUTION.replace("(good_parts / total_parts)", "(good_parts / total_parts) * 0.5")
    sid, status = grading_run(grading_trainee, with_answer(app, wrong_oee))
    state = grading_state(sid)
    assert status == "graded"
    assert state["score"] == 2.0
    assert state["cells"]["test-oee"]["score"] == 0
    oee_cell = next(c for c in state["feedback"] if c.get("grade_id") == "test-oee")
    assert oee_cell["hidden"] is True
    assert "_expected" not in oee_cell["source"] and "HIDDEN" not in oee_cell["source"]
    text = "".join(o["text"] for o in oee_cell["outputs"])
    assert "AssertionError" in text and "OEE is not right for your shift" in text
    assert "_expected" not in text and "math.isclose" not in text  # the hidden line is not in a traceback
    assert "_expected" not in str(state["feedback"])


def test_each_trainee_gets_own_seed_and_answer(app, make_user, grading_enrol, grading_lab, grading_run,
                                               grading_state):
    # A hard-coded answer that is right for one trainee's seed is wrong for another's.
    one, two = grading_enrol(make_user()), grading_enrol(make_user())
    sid = grading_run(one, with_answer(app, SOLUTION))[0]
    seed_one = grading_state(sid)["provenance"]["seed"]
    sid2 = grading_run(two, with_answer(app, SOLUTION))[0]
    assert grading_state(sid2)["provenance"]["seed"] != seed_one
    shift = next(c for c in grading_state(sid)["feedback"] if c.get("grade_id") == "shift-data")
    assert f"seed {seed_one}:" in shift["outputs"][0]["text"]


def test_late_penalty_follows_policy(app, grading_trainee, grading_lab, grading_run, grading_state):
    from grading.models import Lab
    from lms.extensions import db
    from lms.models._types import utcnow

    with app.app_context():
        lab = db.session.get(Lab, grading_lab)
        lab.due_at = utcnow() - timedelta(days=1, hours=2)  # 2 days late: 20 %
        db.session.commit()
    sid, _status = grading_run(grading_trainee, with_answer(app, SOLUTION))
    state = grading_state(sid)
    assert state["score"] == pytest.approx(4.0)
    assert any("late" in m for m in state["messages"])
    with app.app_context():
        lab = db.session.get(Lab, grading_lab)
        lab.due_at = utcnow() - timedelta(days=9)  # past max_days (5): no marks
        db.session.commit()
    sid = grading_run(grading_trainee, with_answer(app, SOLUTION + "# resubmitted\n"))[0]
    assert grading_state(sid)["score"] == 0



def test_factory_line_replay_runs_offline_in_the_sandbox(app, grading_trainee, grading_run, grading_state):
    virtual_lab = pytest.importorskip("virtual_lab")
    probe = ("import os, virtual_lab\nrecs = virtual_lab.replay(os.environ['NIA_LAB_SCENARIO'], "
             "seed=int(os.environ['NIA_LAB_SEED']), trainee=os.environ['NIA_LAB_TRAINEE'], duration_s=30)\n"
             "print('REPLAY', len(recs), recs[-1]['topic'], recs[-1]['t_ms'])\n")
    sid, status = grading_run(grading_trainee, with_answer(app, SOLUTION + probe))
    state = grading_state(sid)
    assert status == "graded" and state["score"] == 5
    expected = virtual_lab.replay("normal-shift", seed=state["provenance"]["seed"],
                                  trainee=f"u{grading_trainee.id}", duration_s=30)
    answers = next(c for c in state["feedback"] if c.get("grade_id") == "answers")
    assert answers["outputs"][0]["text"].strip() == (
        f"REPLAY {len(expected)} {expected[-1]['topic']} {expected[-1]['t_ms']}")
