"""Lab authoring: lab.yaml validation with file:line, import through course_imported, the authoring check
(solution full marks, blank release 0) and the `flask labs` commands."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.fixtures.grading import COURSE_SLUG, DATA, LAB_SLUG

LAB_DIR = DATA / "labs" / LAB_SLUG


def _lab_copy(tmp_path: Path, yaml_text: str | None = None, name: str = LAB_SLUG) -> Path:
    target = tmp_path / "course" / "labs" / name
    shutil.copytree(LAB_DIR, target)
    if yaml_text is not None:
        (target / "lab.yaml").write_text(yaml_text)
    return target


@pytest.mark.parametrize("text,line,words", [
    ("title: T\ntime_limit_s: 0\n", 2, "time_limit_s must be a whole number from 5"),
    ("title: T\nmemory_mb: 512\ncolour: red\n", 3, "unknown setting 'colour'"),
    ("points: 3\n", 1, "title is required"),
    ("title: T\ndue: 2026-12-31T23:59:00\n", 2, "UTC offset"),
    ("title: T\npass_mark: lots\n", 2, "pass_mark must be points or a percentage"),
    ("title: T\nseed: [1]\n", 2, "seed must be 'per-trainee'"),
    ("title: T\nlate_policy:\n  per_day_percent: 150\n", 2, "per_day_percent must be a number from 0 to 100"),
    ("title: T\nnotebooks: [missing]\n", 2, "missing.ipynb is listed but not"),
    ("title: [unclosed\n", 2, "invalid YAML"),
])
def test_bad_lab_yaml_names_file_and_line(tmp_path, text, line, words):
    from grading.labspec import load_lab
    from lms.core.exceptions import UserError

    directory = _lab_copy(tmp_path, text)
    with pytest.raises(UserError) as caught:
        load_lab(directory)
    assert caught.value.message.startswith(f"{directory / 'lab.yaml'}:{line}: ")
    assert words in caught.value.message


def test_sample_lab_yaml_is_read(tmp_path):
    from grading.labspec import load_lab

    spec = load_lab(LAB_DIR)
    assert (spec.title, spec.time_limit_s, spec.memory_mb, spec.scenario) == (
        "OEE on your own shift", 20, 256, "normal-shift")
    assert spec.late_policy == {"per_day_percent": 10, "max_days": 5} and spec.due_at.tzinfo is not None
    assert spec.notebooks == ["oee-shift"] and spec.pass_points(5) == 3


def test_bad_lab_yaml_aborts_the_course_import(app, tmp_path):
    from lms import signals
    from lms.core.exceptions import UserError
    from lms.extensions import db
    from lms.models import Course

    directory = _lab_copy(tmp_path, "title: T\nmemory_mb: lots\n")
    with app.app_context():
        course = Course(slug="bad-course", title="Bad")
        db.session.add(course)
        with pytest.raises(UserError, match=r"lab\.yaml:2: memory_mb"):
            signals.course_imported.send(app, course_dir=directory.parent.parent, course=course, session=db.session)
        db.session.rollback()


def test_reimport_updates_and_archives_labs(app, grading_lab, grading_course_dir):
    from grading.models import Lab
    from grading.operations import import_course_labs
    from lms.extensions import db
    from lms.models import Course

    with app.app_context():
        course = db.session.scalar(db.select(Course).where(Course.slug == COURSE_SLUG))
        import_course_labs(grading_course_dir.parent / "nothing-here", course, db.session)
        assert db.session.get(Lab, grading_lab).archived is True
        import_course_labs(grading_course_dir, course, db.session)
        assert db.session.get(Lab, grading_lab).archived is False
        db.session.rollback()


def _edit_notebook(directory: Path, old: str, new: str) -> None:
    path = directory / f"{LAB_SLUG}.ipynb"
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        cell["source"] = source.replace(old, new)
    path.write_text(json.dumps(nb))


@pytest.mark.slow
@pytest.mark.bwrap
def test_labs_check_command(app, tmp_path):
    good = _lab_copy(tmp_path / "good")
    wrong_solution = _lab_copy(tmp_path / "wrong")
    _edit_notebook(wrong_solution, "quality = good_parts / total_parts", "quality = 1.0")
    passes_blank = _lab_copy(tmp_path / "blank")
    _edit_notebook(passes_blank, "a = availability(480, 48)", "a = 0.9  # the test no longer calls the answer")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["labs", "check", str(good)])
    assert result.exit_code == 0 and "ok (5 points)" in result.output
    result = runner.invoke(args=["labs", "check", str(wrong_solution)])
    assert result.exit_code == 1
    assert "cell 'test-oee' scores 0/3 with the solution (expected full marks)" in result.output
    result = runner.invoke(args=["labs", "check", str(passes_blank)])
    assert result.exit_code == 1 and "cell 'test-availability' gives 2/2 on the blank release" in result.output


@pytest.mark.slow
@pytest.mark.bwrap
def test_labs_build_and_list_commands(app, grading_lab):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["labs", "build", f"{COURSE_SLUG}/{LAB_SLUG}"])
    assert result.exit_code == 0 and "up to date (5 points)" in result.output
    result = runner.invoke(args=["labs", "list"])
    assert f"{COURSE_SLUG}/{LAB_SLUG}\tOEE on your own shift\t5 pts\tpass 3\tbuilt" in result.output
    result = runner.invoke(args=["labs", "build", "no-such-course"])
    assert result.exit_code != 0 and "no lab matches" in result.output
