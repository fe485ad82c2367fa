"""A trainee's course page counts labs from grades the grading worker writes in its own process: a new grade, an
instructor's override and a changed pass mark (a lab rebuilt or re-imported) each show on the trainee's next page,
although the page keeps the trainee's progress in memory between changes (lms.learning.progress_cache)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.fixtures.grading import COURSE_SLUG, LAB_SLUG, SOLUTION, with_answer

pytestmark = [pytest.mark.slow, pytest.mark.bwrap]
COURSE_URL = f"/courses/{COURSE_SLUG}"


def _labs_line(client) -> str:
    response = client.get(COURSE_URL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    import re
    found = re.findall(r"\d+ of \d+ labs passed", html)
    return found[0] if found else re.sub(r"\s+", " ", html[html.find("<main"):])[:1500]


def _in_own_session(app, change) -> None:
    from lms.extensions import db

    with app.app_context():
        change(db.session)
        db.session.commit()


def test_grades_written_elsewhere_reach_the_cached_course_page(app, client, sign_in, make_user, grading_trainee,
                                                              grading_run):
    from grading import operations
    from grading.models import Grade, Lab

    from lms.models import Course, Module

    def lab_module(session):  # the sample course has no modules; the course page counts the labs modules list
        course = session.scalar(select(Course).where(Course.slug == COURSE_SLUG))
        session.add(Module(course_id=course.id, slug="practice", title="Practice", labs=[LAB_SLUG]))

    _in_own_session(app, lab_module)
    sign_in(grading_trainee)
    assert _labs_line(client) == "0 of 1 labs passed"
    assert _labs_line(client) == "0 of 1 labs passed"  # now from memory
    _submission, status = grading_run(grading_trainee, with_answer(app, SOLUTION))
    assert status == "graded"
    assert _labs_line(client) == "1 of 1 labs passed"

    instructor = make_user("instructor")
    _in_own_session(app, lambda s: operations.override(s.scalar(select(Grade)), 0.0, "copied answers", instructor))
    assert _labs_line(client) == "0 of 1 labs passed"

    def lower_the_pass_mark(session):
        lab = session.scalar(select(Lab).where(Lab.slug == LAB_SLUG))
        lab.pass_percent, lab.pass_mark = None, 0.0

    _in_own_session(app, lower_the_pass_mark)
    assert _labs_line(client) == "1 of 1 labs passed"
