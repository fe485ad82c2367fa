"""benchmarks/load must keep working: a small real run (gunicorn, grading worker in the sandbox, trainees over
HTTP with CSRF) that checks it completes cleanly and reports per-action percentiles, never how fast anything is;
and its checks must catch lost, double-graded or failed work."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks._load_trainee import Course, _answer
from benchmarks.load import DEFAULT_COURSE, report, verdict

ROOT = Path(__file__).resolve().parent.parent


def _clean_result(**changes) -> dict:
    result = {"errors": [], "submissions": 3, "expected_submissions": 3, "quizzes_passed": 3, "expected_quizzes": 3,
              "database": {"found": 3, "total": 3, "graded_once": 3, "graded_twice_or_more": 0, "retried_jobs": 0}}
    for key, value in changes.items():
        if key in result["database"]:
            result["database"][key] = value
        else:
            result[key] = value
    return result


def test_verdict_is_clean_only_when_nothing_is_lost_or_graded_twice():
    assert verdict(_clean_result()) == []
    assert "1 error(s)" in verdict(_clean_result(errors=["enrol: POST /courses/x/enrol answered 500"]))[0]
    assert "2 submissions accepted of 3 expected" in verdict(_clean_result(submissions=2))[0]
    assert "database has 2 of the 3" in verdict(_clean_result(found=2))[0]
    assert "4 in all" in verdict(_clean_result(total=4))[0]  # a submission nobody asked for
    assert "1 more than once" in " ".join(verdict(_clean_result(graded_once=2, graded_twice_or_more=1)))
    assert "2 of 3 quizzes passed" in verdict(_clean_result(quizzes_passed=2))[0]


def test_course_answer_key_comes_from_the_course_files():
    course = Course.from_dir(DEFAULT_COURSE)
    assert course.slug == "line-reading" and course.lessons == ["where-your-line-publishes"]
    key = course.quizzes["line-check"]
    assert _answer(key["Which channel is retained, so a new subscriber learns it at once?"]) == ["1"]
    assert _answer({"type": "multiple", "answer": [0, 2]}) == ["0", "2"]
    assert _answer({"type": "text", "answer": ["+", "plus"]}) == ["+"]
    assert "BEGIN SOLUTION" in course.labs["machines-on-your-line"]["answers"]


def test_report_shows_percentiles_and_the_ratio_to_one_trainee_alone():
    text = report({"lab submit": [0.1, 0.2, 0.3], "never": []}, {"lab submit": [0.05]})
    assert re.search(r"lab submit\s+3\s+200\.00\s+300\.00\s+300\.00\s+300\.00\s+6\.00", text), text
    assert "never" not in text


@pytest.mark.slow
@pytest.mark.bwrap  # the grading worker runs the notebooks in bubblewrap
def test_load_benchmark_runs_a_small_crowd_cleanly(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIA_") and k != "DATABASE_URL"}
    figures = tmp_path / "load.json"
    done = subprocess.run([sys.executable, "-m", "benchmarks", "load", "--trainees", "3", "--grading-workers", "1",
                           "--lms-workers", "1", "--think", "0", "--timeout", "240", "--json", str(figures)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=420)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "checks: no errors, no lost submission, each graded exactly once" in done.stdout
    for action in ("register", "quiz submit", "lab submit", "submit -> graded"):
        assert re.search(rf"^{re.escape(action)}\s+\d+\s+[\d,.]+\s+[\d,.]+\s+[\d,.]+", done.stdout, re.M), done.stdout
    result = json.loads(figures.read_text())
    assert result["submissions"] == 4 and result["database"]["graded_once"] == 4  # 3 at once + 1 alone
    assert not Path(result["work"]).exists()  # the throw-away directory is removed
