"""Re-import keeps learner data; Markdown is sanitised; assets are served safely."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.models import Course, Enrolment, Lesson, LessonCompletion, Module, Question, Quiz, QuizAttempt
from lms.models._types import utcnow

pytestmark = pytest.mark.usefixtures("release_session")


def _course() -> Course:
    db.session.expire_all()
    return db.session.scalar(select(Course).where(Course.slug == "alpha"))


def _lesson(slug: str) -> Lesson:
    return db.session.scalar(select(Lesson).where(Lesson.slug == slug))


def _learner_data(learner) -> int:
    user = learner()
    course = _course()
    db.session.add(Enrolment(user_id=user.id, course_id=course.id, status="completed", completed_at=utcnow()))
    db.session.add(LessonCompletion(user_id=user.id, lesson_id=_lesson("first").id))
    quiz = db.session.scalar(select(Quiz))
    db.session.add(QuizAttempt(user_id=user.id, quiz_id=quiz.id, question_ids=[q.id for q in quiz.questions[:2]],
                               status="submitted", passed=True, score=2, max_score=2, percent=100))
    db.session.commit()
    return user.id


def test_reimport_updates_in_place_and_keeps_learner_data(app, course_tree, imported, courses_cli, learner):
    imported()
    ids = {lesson.slug: lesson.id for lesson in db.session.scalars(select(Lesson))}
    user_id = _learner_data(learner)
    course_tree.edit("alpha", "course.yaml", "title: Alpha course", "title: Alpha course, second edition")
    course_tree.edit("alpha", "lessons/second.md", "title: Second lesson", "title: Second lesson (revised)")
    course_tree.edit("alpha", "course.yaml", "lessons: [first, second]", "lessons: [second]")  # drop 'first'
    course_tree.edit("alpha", "lessons/second.md", "[the first](first.md)", "the first")
    course_tree.edit("alpha", "quizzes/check.yaml", "draw: 2", "draw: 1")
    course_tree.edit("alpha", "quizzes/check.yaml",
                     "  - {id: q1, type: single, prompt: Pick b, options: [a, b], answer: 1, "
                     "explanation: b is right}\n",
                     "")  # drop q1 from the bank
    result = courses_cli("import", course_tree.write())
    assert result.exit_code == 0 and "updated  alpha" in result.output, result.output

    course = _course()
    assert course.title == "Alpha course, second edition"
    second = _lesson("second")
    assert second.id == ids["second"] and second.title == "Second lesson (revised)"
    first = _lesson("first")
    assert first.id == ids["first"] and first.archived  # has a completion: archived, not deleted
    assert db.session.scalar(select(Enrolment).where(Enrolment.user_id == user_id)).completed_at is not None
    assert db.session.scalar(select(LessonCompletion).where(LessonCompletion.user_id == user_id)) is not None
    quiz = db.session.scalar(select(Quiz))
    assert quiz.draw_count == 1 and db.session.scalar(select(QuizAttempt)).quiz_id == quiz.id
    q1 = db.session.scalar(select(Question).where(Question.key == "q1"))
    assert q1 is not None and q1.archived  # the quiz has attempts: removed questions are archived

    course_tree.edit("alpha", "course.yaml", "lessons: [second]", "lessons: [first, second]")  # bring it back
    assert courses_cli("import", course_tree.write()).exit_code == 0
    first = _lesson("first")
    assert first.id == ids["first"] and not first.archived and first.position == 0


def test_content_without_learner_data_is_deleted(app, course_tree, imported, courses_cli):
    imported()
    course_tree.edit("alpha", "course.yaml", "lessons: [first, second]", "lessons: [second]")
    course_tree.edit("alpha", "lessons/second.md", "[the first](first.md)", "the first")
    assert courses_cli("import", course_tree.write()).exit_code == 0
    assert _lesson("first") is None and _lesson("second") is not None


def test_removed_module_with_learner_data_is_archived(app, course_tree, imported, courses_cli, learner):
    imported()
    user_id = _learner_data(learner)
    # 'basics' disappears; its lesson 'second' moves into 'advanced'; 'first' (with a completion) is dropped.
    course_tree.edit("alpha", "course.yaml", "  - slug: basics\n    title: Basics\n    lessons: [first, second]\n", "")
    course_tree.edit("alpha", "course.yaml", "    prerequisites: [basics]\n", "")
    course_tree.edit("alpha", "course.yaml", "lessons: [third]", "lessons: [second, third]")
    course_tree.edit("alpha", "lessons/third.md", "Third lesson text.", "Third lesson text.")
    course_tree.put("alpha", "lessons/second.md", "---\ntitle: Second lesson\n---\nNo links now.\n")
    result = courses_cli("import", course_tree.write())
    assert result.exit_code == 0, result.output
    basics = db.session.scalar(select(Module).where(Module.slug == "basics"))
    assert basics.archived and [lesson.slug for lesson in basics.lessons] == ["first"]
    assert _lesson("second").module.slug == "advanced"
    assert db.session.scalar(select(LessonCompletion).where(LessonCompletion.user_id == user_id)) is not None


def test_whole_tree_import_archives_courses_no_longer_present(app, course_tree, imported, courses_cli):
    course_tree.add("beta")
    imported()
    del course_tree.files["beta"]
    result = courses_cli("import", course_tree.write())
    assert result.exit_code == 0 and "archived beta" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(Course).where(Course.slug == "beta")).archived
    assert not _course().archived


XSS_LESSON = """\
---
title: Hostile
---
<script>alert('x')</script>

<img src="../assets/tree.svg" onerror="alert(1)">

<a href="javascript:alert(1)">click</a> <a href="https://example.test/" onclick="steal()">ok link</a>

<iframe src="https://evil.test"></iframe><style>body{display:none}</style>

<p style="background:url(javascript:alert(1))" class="x">styled</p>

<svg onload="alert(1)"><circle r="1"/></svg>

[md link](javascript:alert(1)) and <details><summary>More</summary>Hidden</details>

```python
print("<script>")
```

| a | b |
|---|---|
| 1 | 2 |
"""


def test_markdown_is_sanitised(app, course_tree, imported):
    course_tree.put("alpha", "lessons/third.md", XSS_LESSON)
    imported()
    html = _lesson("third").body_html.lower()
    for bad in ("<script", "onerror", "onclick", "onload", '="javascript:', "<iframe", "<style", "style=", "<svg",
                "alert('x')", "evil.test"):
        assert bad not in html, (bad, html)
    assert "[md link](javascript:alert(1))" in html  # markdown-it refuses the link: it stays inert text
    assert "<table>" in html and '<code class="language-python">' in html and "&lt;script&gt;" in html
    assert '<a href="https://example.test/" rel="noopener noreferrer">ok link</a>' in html
    assert "<details><summary>more</summary>hidden</details>" in html


def test_assets_are_served_with_a_restrictive_policy(app, client, imported):
    imported()
    response = client.get("/courses/alpha/assets/tree.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


@pytest.mark.parametrize("path", ["/courses/alpha/assets/../../secret_key", "/courses/alpha/assets/%2e%2e/x.svg",
                                  "/courses/alpha/assets/missing.svg", "/courses/ghost/assets/tree.svg",
                                  "/courses/alpha/assets/course.yaml"])
def test_asset_route_refuses_everything_else(app, client, imported, path):
    imported()
    response = client.get(path)
    response.close()
    assert response.status_code == 404
