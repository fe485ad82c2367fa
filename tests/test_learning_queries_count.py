"""Regression guard for the learning pages' database work: the catalog and a lesson page run a small, fixed number
of SQL statements (no lazy load per module, lesson or quiz), and the per-process course outline they read is
replaced as soon as a re-import changes the course."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from lms.accounts import signed_in
from lms.accounts.signed_in import fetch_row
from lms.extensions import db
from lms.models import Course
from tests.fixtures.content import form_token

pytestmark = pytest.mark.usefixtures("release_session")

CATALOG_MAX = 0  # anonymous, no session: served from the shared-page cache
CATALOG_UNCACHED_MAX = 1  # the course list
CATALOG_SIGNED_IN_MAX = 3  # + the user (flask-login) + the user's enrolments
LESSON_MAX = 2  # the user, the learner's enrolment/completions/passed quizzes in one statement (course: snapshot)


@contextmanager
def counted(app):
    """Statements run inside the block, with the content generation read as in production (at most once a
    second, here: not again inside the block; the tests read it fresh on every request outside)."""
    statements: list[str] = []
    app.config["PAGE_CACHE_CHECK_SECONDS"] = 3600

    def _count(_conn, _cursor, statement, _params, _context, _many):
        statements.append(statement)

    def _count_user_load(engine, statement, parameters):  # the signed-in user is read past SQLAlchemy's events
        statements.append(statement)
        return fetch_row(engine, statement, parameters)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _count)
    signed_in.fetch_row = _count_user_load
    try:
        yield statements
    finally:
        signed_in.fetch_row = fetch_row
        event.remove(engine, "before_cursor_execute", _count)
        app.config["PAGE_CACHE_CHECK_SECONDS"] = 0


@pytest.fixture
def enrolled(app, client, imported, learner, sign_in):
    imported()
    sign_in(learner())
    token = form_token(client.get("/courses/alpha").get_data(as_text=True))
    assert client.post("/courses/alpha/enrol", data={"csrf_token": token}).status_code == 302
    return client


def _get(client, path):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def test_catalog_statements(app, client, imported):
    imported()
    _get(client, "/courses")
    with counted(app) as statements:
        html = _get(client, "/courses")
    assert "Alpha course" in html
    assert len(statements) <= CATALOG_MAX, statements


def test_catalog_statements_without_the_page_cache(app, client, imported):
    imported()
    app.config["PAGE_CACHE_ENABLED"] = False
    try:
        with counted(app) as statements:
            html = _get(client, "/courses")
    finally:
        app.config["PAGE_CACHE_ENABLED"] = True
    assert "Alpha course" in html
    assert len(statements) <= CATALOG_UNCACHED_MAX, statements


def test_catalog_signed_in_statements(app, enrolled):
    _get(enrolled, "/courses")
    with counted(app) as statements:
        html = _get(enrolled, "/courses")
    assert "Enrolled" in html
    assert len(statements) <= CATALOG_SIGNED_IN_MAX, statements


@pytest.mark.parametrize("lesson", ["first", "second"])
def test_lesson_page_statements(app, enrolled, lesson):
    _get(enrolled, f"/courses/alpha/lessons/{lesson}")  # the first view of a new import builds the outline
    with counted(app) as statements:
        html = _get(enrolled, f"/courses/alpha/lessons/{lesson}")
    assert "Mark as done" in html
    assert len(statements) <= LESSON_MAX, statements


def test_lesson_statements_do_not_grow_with_the_course(app, enrolled, course_tree, imported):
    """More modules, lessons and quizzes must not mean more statements (no N+1 lazy loads)."""
    with counted(app) as statements:
        _get(enrolled, "/courses/alpha/lessons/first")
    small = len(statements)
    course_tree.edit("alpha", "course.yaml", "- slug: advanced",
                     "- slug: more\n    title: More\n    lessons: [extra, spare]\n  - slug: advanced")
    for slug in ("extra", "spare"):
        course_tree.put("alpha", f"lessons/{slug}.md", f"---\ntitle: {slug}\n---\nOne more lesson.\n")
    imported()
    _get(enrolled, "/courses/alpha/lessons/first")
    with counted(app) as statements:
        html = _get(enrolled, "/courses/alpha/lessons/extra")
    assert "One more lesson." in html
    assert len(statements) <= min(small, LESSON_MAX), statements


def test_reimport_replaces_the_cached_outline(app, enrolled, course_tree, imported):
    before = _get(enrolled, "/courses/alpha/lessons/first")
    assert "Renamed basics" not in before
    course_tree.edit("alpha", "course.yaml", "title: Basics", "title: Renamed basics")
    imported()
    with app.app_context():
        assert db.session.scalar(select(Course.content_hash).where(Course.slug == "alpha"))
    assert "Renamed basics" in _get(enrolled, "/courses/alpha/lessons/first")
    assert "Renamed basics" in _get(enrolled, "/courses/alpha")
