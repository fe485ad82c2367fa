"""`flask courses import|validate`: valid content, every class of bad file (file:line, nothing written)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from lms import signals
from lms.core.exceptions import UserError
from lms.extensions import db
from lms.models import Course, Lesson, Question, Quiz

pytestmark = pytest.mark.usefixtures("release_session")


def test_valid_tree_imports_everything(app, course_tree, courses_cli, content_counts):
    result = courses_cli("import", course_tree.write())
    assert result.exit_code == 0, result.output
    assert "created  alpha: 2 modules, 3 lessons, 1 quizzes, 4 questions, 0 labs" in result.output
    counts = content_counts()
    assert (counts["Course"], counts["Module"], counts["Lesson"], counts["Quiz"], counts["Question"]) == (1, 2, 3, 1, 4)
    course = db.session.scalar(select(Course).where(Course.slug == "alpha"))
    assert course.title == "Alpha course" and course.level == "beginner" and course.hours == 1.5
    assert course.translations == {"zh_Hant": {"title": "阿爾法課程"}}
    assert course.achievement["alignments"][0]["code"] == "A1"
    assert course.completion == {"lessons": "all", "quizzes": "all", "labs": "all"}
    basics, advanced = course.modules
    assert [m.slug for m in course.modules] == ["basics", "advanced"] and advanced.prerequisites == ["basics"]
    first = basics.lessons[0]
    assert first.minutes == 5 and "<table>" in first.body_html and "<strong>first</strong>" in first.body_html
    assert 'src="/courses/alpha/assets/tree.svg"' in first.body_html
    assert first.translations["zh_Hant"]["title"] == "第一課" and "第一課的內容" in first.translations["zh_Hant"]["body_html"]
    assert 'href="/courses/alpha/lessons/first"' in basics.lessons[1].body_html
    quiz = advanced.quizzes[0]
    assert (quiz.draw_count, quiz.attempt_limit, quiz.pass_mark) == (2, None, 50.0)
    kinds = {q.key: (q.kind, q.answer) for q in quiz.questions}
    assert kinds == {"q1": ("single", 1), "q2": ("multiple", [0, 2]), "q3": ("numeric", 4),
                     "q4": ("text", ["yes", "y"])}
    assert quiz.questions[2].tolerance == 0.1


def test_sample_course_in_repository_is_valid(app, courses_cli, content_counts):
    result = courses_cli("import", Path(app.config["COURSES_DIR"]) / "mqtt-basics")
    assert result.exit_code == 0, result.output
    course = db.session.scalar(select(Course).where(Course.slug == "mqtt-basics"))
    kinds = {q.kind for m in course.modules for quiz in m.quizzes for q in quiz.questions}
    assert kinds == {"single", "multiple", "numeric", "text"}
    assert len([lesson for m in course.modules for lesson in m.lessons]) >= 3


def _unknown_key(t):
    t.edit("alpha", "course.yaml", "hours: 1.5\n", "hours: 1.5\ncolour: red\n")
    return "alpha/course.yaml:5: unknown key 'colour'"


def _missing_key(t):
    t.edit("alpha", "course.yaml", "level: beginner\n", "")
    return "alpha/course.yaml:1: missing key 'level'"


def _wrong_type(t):
    t.edit("alpha", "course.yaml", "hours: 1.5", "hours: lots")
    return "alpha/course.yaml:4: 'hours' must be a number"


def _unknown_course_prerequisite(t):
    t.edit("alpha", "course.yaml", "prerequisites: []", "prerequisites: [ghost]")
    return "alpha/course.yaml:5: unknown prerequisite course 'ghost'"


def _missing_lesson_file(t):
    t.remove("alpha", "lessons/third.md")
    return "alpha/course.yaml:19: lesson file lessons/third.md not found"


def _duplicate_module(t):
    t.edit("alpha", "course.yaml", "slug: advanced", "slug: basics")
    return "alpha/course.yaml:16: duplicate module slug 'basics' (first on line 13)"


def _duplicate_lesson(t):
    t.edit("alpha", "course.yaml", "lessons: [third]", "lessons: [third, first]")
    return "alpha/course.yaml:19: duplicate lesson slug 'first'"


def _draw_too_big(t):
    t.edit("alpha", "quizzes/check.yaml", "draw: 2", "draw: 9")
    return "alpha/quizzes/check.yaml:2: draw is 9 but the bank has only 4 question(s)"


def _answer_out_of_range(t):
    t.edit("alpha", "quizzes/check.yaml", "answer: 1, explanation", "answer: 5, explanation")
    return "alpha/quizzes/check.yaml:6: answer index 5 is out of range (options 0..1)"


def _numeric_answer_not_number(t):
    t.edit("alpha", "quizzes/check.yaml", "answer: 4,", "answer: four,")
    return "alpha/quizzes/check.yaml:8: answer of a numeric question must be a number"


def _unknown_question_type(t):
    t.edit("alpha", "quizzes/check.yaml", "type: numeric", "type: essay")
    return "alpha/quizzes/check.yaml:8: question type 'essay' is not one of"


def _module_cycle(t):
    t.edit("alpha", "course.yaml", "    title: Basics\n", "    title: Basics\n    prerequisites: [advanced]\n")
    return "alpha/course.yaml:17: module prerequisite cycle: advanced -> basics -> advanced"


def _unknown_module_prerequisite(t):
    t.edit("alpha", "course.yaml", "prerequisites: [basics]", "prerequisites: [ghost]")
    return "alpha/course.yaml:18: unknown prerequisite module 'ghost'"


def _bad_yaml(t):
    t.edit("alpha", "course.yaml", "level: beginner", "level: [beginner")
    return re.compile(r"alpha/course\.yaml:\d+: invalid YAML")


def _duplicate_yaml_key(t):
    t.edit("alpha", "course.yaml", "hours: 1.5\n", "hours: 1.5\ntitle: Again\n")
    return "alpha/course.yaml:5: duplicate key 'title' (first on line 1)"


def _front_matter_missing_title(t):
    t.edit("alpha", "lessons/second.md", "title: Second lesson", "name: Second lesson")
    return "alpha/lessons/second.md:2: unknown key 'name'"


def _no_front_matter(t):
    t.put("alpha", "lessons/third.md", "Just text\n")
    return "alpha/lessons/third.md:1: missing YAML front matter"


def _asset_escapes(t):
    t.edit("alpha", "lessons/first.md", "../assets/tree.svg", "../../../etc/passwd")
    return "alpha/lessons/first.md:11: '../../../etc/passwd' is outside the course's assets/ directory"


def _missing_asset(t):
    t.remove("alpha", "assets/tree.svg")
    return "alpha/lessons/first.md:11: asset 'assets/tree.svg' not found"


def _remote_image(t):
    t.edit("alpha", "lessons/first.md", "../assets/tree.svg", "https://evil.test/x.png")
    return "alpha/lessons/first.md:11: image 'https://evil.test/x.png' must be a course asset"


def _link_to_unknown_lesson(t):
    t.edit("alpha", "lessons/second.md", "(first.md)", "(nowhere.md)")
    return "alpha/lessons/second.md:4: link to lesson 'nowhere.md' which is not part of this course"


def _missing_lab(t):
    t.edit("alpha", "course.yaml", "quizzes: [check]\n", "quizzes: [check]\n    labs: [ghost-lab]\n")
    return "alpha/course.yaml:21: lab directory labs/ghost-lab/ not found"


def _unknown_locale_file(t):
    t.put("alpha", "lessons/first.fr.md", "---\ntitle: Premier\n---\nBonjour\n")
    return "alpha/lessons/first.fr.md:1: unknown locale 'fr'"


def _completion_unknown_quiz(t):
    t.edit("alpha", "course.yaml", "translations:\n", "completion: {quizzes: [nope]}\ntranslations:\n")
    return "alpha/course.yaml:21: completion.quizzes names 'nope', which no module lists"


def _bad_level(t):
    t.edit("alpha", "course.yaml", "level: beginner", "level: expert")
    return "alpha/course.yaml:3: level 'expert' is not one of beginner, intermediate, advanced"


def _bad_alignment_url(t):
    t.edit("alpha", "course.yaml", '"https://example.test/a1"', "javascript:alert(1)")
    return "alpha/course.yaml:11: alignment url 'javascript:alert(1)' must be an http(s) URL"


def _python_tag(t):
    t.edit("alpha", "course.yaml", "hours: 1.5", "hours: !!python/object/apply:os.system [id]")
    return "alpha/course.yaml:4: unsupported tag tag:yaml.org,2002:python/object/apply:os.system"


def _directory_without_course_yaml(t):
    t.add("beta", {"lessons/x.md": "---\ntitle: x\n---\nx\n"})
    return "beta/course.yaml:1: missing course.yaml"


BAD_CASES = [_unknown_key, _missing_key, _wrong_type, _unknown_course_prerequisite, _missing_lesson_file,
             _duplicate_module, _duplicate_lesson, _draw_too_big, _answer_out_of_range, _numeric_answer_not_number,
             _unknown_question_type, _module_cycle, _unknown_module_prerequisite, _bad_yaml, _duplicate_yaml_key,
             _front_matter_missing_title, _no_front_matter, _asset_escapes, _missing_asset, _remote_image,
             _link_to_unknown_lesson, _missing_lab, _unknown_locale_file, _completion_unknown_quiz, _bad_level,
             _bad_alignment_url, _python_tag, _directory_without_course_yaml]


@pytest.mark.parametrize("mutate", BAD_CASES, ids=[f.__name__.strip("_") for f in BAD_CASES])
def test_bad_file_reports_file_line_and_imports_nothing(app, course_tree, courses_cli, content_counts, mutate):
    expected = mutate(course_tree)
    root = course_tree.write()
    before = content_counts()
    result = courses_cli("import", root)
    assert result.exit_code == 1, result.output
    lines = [line.removeprefix(str(root) + "/") for line in result.output.splitlines()]
    if isinstance(expected, re.Pattern):
        assert any(expected.match(line) for line in lines), result.output
    else:
        assert any(line.startswith(expected) for line in lines), f"wanted {expected!r} in:\n{result.output}"
    assert "nothing was imported" in result.output
    assert content_counts() == before


def test_all_errors_are_collected(app, course_tree, courses_cli):
    _unknown_key(course_tree)
    _draw_too_big(course_tree)
    _missing_lesson_file(course_tree)
    result = courses_cli("validate", course_tree.write())
    assert result.exit_code == 1
    assert len(re.findall(r"^\S+:\d+: ", result.output, flags=re.M)) == 3, result.output
    assert "3 error(s)" in result.output


def test_course_prerequisite_cycle_across_courses(app, course_tree, courses_cli, content_counts):
    course_tree.add("beta").edit("beta", "course.yaml", "prerequisites: []", "prerequisites: [alpha]")
    course_tree.edit("alpha", "course.yaml", "prerequisites: []", "prerequisites: [beta]")
    result = courses_cli("import", course_tree.write())
    assert result.exit_code == 1
    assert re.search(r"alpha/course\.yaml:5: course prerequisite cycle: alpha -> beta -> alpha", result.output), \
        result.output
    assert content_counts()["Course"] == 0


def test_one_bad_course_blocks_the_good_one(app, course_tree, courses_cli, content_counts):
    course_tree.add("beta").edit("beta", "quizzes/check.yaml", "draw: 2", "draw: 0")
    result = courses_cli("import", course_tree.write())
    assert result.exit_code == 1 and "beta/quizzes/check.yaml:2: 'draw' must be at least 1" in result.output
    assert content_counts()["Course"] == 0


def test_prerequisite_may_name_an_already_imported_course(app, course_tree, courses_cli, imported):
    imported()
    course_tree.add("beta").edit("beta", "course.yaml", "prerequisites: []", "prerequisites: [alpha]")
    del course_tree.files["alpha"]
    result = courses_cli("import", course_tree.write() / "beta")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Course).where(Course.slug == "beta")).prerequisites == ["alpha"]
    assert not db.session.scalar(select(Course).where(Course.slug == "alpha")).archived  # single-course import


def test_validate_writes_nothing(app, course_tree, courses_cli, content_counts):
    assets = Path(app.instance_path) / "course_assets"
    shutil.rmtree(assets, ignore_errors=True)
    result = courses_cli("validate", course_tree.write())
    assert result.exit_code == 0, result.output
    assert "ok  alpha" in result.output and "1 course(s) valid." in result.output
    assert set(content_counts().values()) == {0}
    assert not assets.exists()


def test_missing_path_is_an_error(app, tmp_path, courses_cli):
    result = courses_cli("validate", tmp_path / "nowhere")
    assert result.exit_code == 1 and "nowhere:1: no such file or directory" in result.output


def test_receiver_refusal_aborts_the_whole_import(app, course_tree, courses_cli, content_counts):
    seen = []

    def refuse(sender, course_dir, course, session):
        seen.append((course_dir.name, course.slug, course.id is not None, session is db.session))
        raise UserError("labs/oee/lab.yaml:3: unknown scenario 'nope'")

    signals.course_imported.connect(refuse, sender=app)
    try:
        result = courses_cli("import", course_tree.write())
    finally:
        signals.course_imported.disconnect(refuse, sender=app)
    assert seen == [("alpha", "alpha", True, True)]
    assert result.exit_code == 1
    assert "import refused: labs/oee/lab.yaml:3: unknown scenario 'nope'" in result.output
    assert set(content_counts().values()) == {0}


def test_bad_reimport_leaves_previous_content(app, course_tree, courses_cli, imported):
    imported()
    course_tree.edit("alpha", "course.yaml", "title: Alpha course", "title: Renamed")
    _answer_out_of_range(course_tree)
    result = courses_cli("import", course_tree.write())
    assert result.exit_code == 1
    db.session.expire_all()
    assert db.session.scalar(select(Course.title).where(Course.slug == "alpha")) == "Alpha course"
    assert db.session.scalar(select(Quiz.title)) == "Check"
    assert db.session.scalar(select(Lesson.title).where(Lesson.slug == "first")) == "First lesson"
    assert db.session.query(Question).count() == 4


def test_unknown_scalar_tag_is_refused(app, course_tree, courses_cli):
    course_tree.edit("alpha", "course.yaml", "hours: 1.5", "hours: !!python/name:os.system")
    result = courses_cli("validate", course_tree.write())
    assert result.exit_code == 1 and re.search(r"alpha/course\.yaml:4: cannot read value", result.output), \
        result.output


def test_default_path_is_the_courses_dir_setting(app, course_tree, courses_cli, monkeypatch):
    monkeypatch.setitem(app.config, "COURSES_DIR", str(course_tree.write()))
    result = courses_cli("validate")
    assert result.exit_code == 0 and "ok  alpha" in result.output, result.output
