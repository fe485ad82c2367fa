"""The shipped course catalogue (courses/): every file validates, the whole tree imports into a fresh database,
and each certification course has what issue 7 asks of it (lessons, a quiz bank with explanations, labs on the
simulated line, completion criteria, an achievement with competency alignments). Per-lab authoring checks live
in the per-course test files beside this one."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import Course, Lesson, Module, Question, Quiz

pytestmark = pytest.mark.usefixtures("release_session")

COURSES = Path(__file__).resolve().parents[2] / "courses"
CERTIFICATION_COURSES = sorted(p.name for p in COURSES.iterdir()
                               if (p / "course.yaml").is_file() and (p / "labs").is_dir())


def test_catalogue_has_the_four_certification_courses():
    assert len(CERTIFICATION_COURSES) >= 4, CERTIFICATION_COURSES


def test_every_course_file_validates(courses_cli):
    result = courses_cli("validate", COURSES)
    assert result.exit_code == 0, result.output


def test_the_whole_catalogue_imports_into_a_fresh_database(app, courses_cli):
    result = courses_cli("import", COURSES)
    assert result.exit_code == 0, result.output
    with app.app_context():
        slugs = set(db.session.scalars(select(Course.slug).where(Course.archived.is_(False))))
    assert set(CERTIFICATION_COURSES) <= slugs


@pytest.mark.parametrize("slug", CERTIFICATION_COURSES)
def test_certification_course_shape(app, courses_cli, slug):
    assert courses_cli("import", COURSES / slug).exit_code == 0
    spec = yaml.safe_load((COURSES / slug / "course.yaml").read_text(encoding="utf-8"))
    achievement = spec["achievement"]
    assert achievement.get("alignments"), f"{slug}: the achievement needs competency alignments"
    assert all(a.get("name") and a.get("url", "").startswith("https://") for a in achievement["alignments"])
    labs = [lab for module in spec["modules"] for lab in module.get("labs", [])]
    assert len(labs) >= 2, f"{slug}: at least two labs"
    for lab in labs:
        assert (COURSES / slug / "labs" / lab / "lab.yaml").is_file(), f"{slug}/{lab}: lab.yaml missing"
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        db.session.expunge(course)
        lessons = db.session.scalar(select(func.count(Lesson.id)).join(Module).where(
            Module.course_id == course.id, Lesson.archived.is_(False)))
        questions = list(db.session.scalars(select(Question).join(Quiz).join(Module).where(
            Module.course_id == course.id, Question.archived.is_(False))))
    assert lessons >= 4, f"{slug}: {lessons} lessons"
    assert len(questions) >= 15, f"{slug}: {len(questions)} quiz questions"
    assert all((q.explanation or "").strip() for q in questions), f"{slug}: every question needs an explanation"
    assert {q.kind for q in questions} == {"single", "multiple", "numeric", "text"}, f"{slug}: all four kinds"
    assert set(course.translations) >= {"zh_Hant", "zh_Hans"}, f"{slug}: course title/summary in both Chinese"
    for lesson_file in (COURSES / slug / "lessons").glob("*.md"):
        words = len(lesson_file.read_text(encoding="utf-8").split())
        assert words >= 300 or "." in lesson_file.stem, f"{lesson_file.name}: {words} words is not a lesson"
