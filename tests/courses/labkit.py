"""What the per-course lab tests share: a lab's source notebook, a trainee's variant of it (a plausible mistake
or whole answer cells), its cells run in-process, and the authoring check plus grading of variants in the sandbox
exactly as `flask labs check` builds its grader."""
from __future__ import annotations

import json
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


class CourseLabs:
    def __init__(self, course_dir: Path) -> None:
        self.course_dir, self.slug = course_dir, course_dir.name

    def notebook(self, lab: str) -> dict:
        return json.loads((self.course_dir / "labs" / lab / f"{lab}.ipynb").read_text(encoding="utf-8"))

    def sources(self, lab: str) -> dict[str, str]:
        """grade_id -> cell source, hidden tests included."""
        return {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"])
                for c in self.notebook(lab)["cells"] if c["metadata"].get("nbgrader")}

    def with_mistake(self, lab: str, *replacements: tuple[str, str]) -> bytes:
        """The source notebook with text of the reference solution replaced; exactly one answer cell changes."""
        nb = self.notebook(lab)
        changed = set()
        for cell in nb["cells"]:
            nbgrader = cell["metadata"].get("nbgrader", {})
            source = "".join(cell["source"])
            for old, new in replacements:
                if old in source and nbgrader.get("solution"):
                    source = source.replace(old, new)
                    changed.add(nbgrader["grade_id"])
            cell["source"] = source
        assert len(changed) == 1, f"the mistake must change exactly one solution cell of {lab}: {changed}"
        return json.dumps(nb).encode()

    def with_answers(self, lab: str, answers: dict[str, str]) -> bytes:
        """The source notebook with whole answer cells replaced (what a trainee with these answers submits)."""
        nb = self.notebook(lab)
        replaced = set()
        for cell in nb["cells"]:
            grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                assert cell["metadata"]["nbgrader"]["solution"], f"{grade_id} is not an answer cell"
                cell["source"] = answers[grade_id].strip("\n")
                replaced.add(grade_id)
        assert replaced == set(answers), f"answer cells not found in {lab}: {set(answers) - replaced}"
        return json.dumps(nb).encode()

    def run_cells(self, lab: str, grade_ids: list[str], answers: dict[str, str] | None = None,
                  namespace: dict | None = None) -> dict:
        """Execute cells of the source notebook in one namespace, as the kernel would (no sandbox)."""
        sources = {**self.sources(lab), **(answers or {})}
        namespace = {} if namespace is None else namespace
        for grade_id in grade_ids:
            exec(compile(sources[grade_id], f"{lab}:{grade_id}", "exec"), namespace)  # noqa: S102 - our notebook
        return namespace

    def run_with_env(self, lab: str, grade_ids: list[str], env: dict[str, str], monkeypatch) -> dict:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return self.run_cells(lab, grade_ids)

    def check_and_grade(self, app, workdir: Path, lab: str, variants: list[tuple[bytes, int, str]]):
        """Authoring check (solution full marks, release zero), then grade each (notebook, seed, trainee);
        returns (build report, [(result, {grade_id: score})])."""
        from grading import labspec, operations, sandbox
        from grading.facade import CourseGrader

        spec = labspec.load_lab(self.course_dir / "labs" / lab)
        grader = CourseGrader(workdir / self.slug, self.slug, allow_unsafe=app.config["GRADING_ALLOW_UNSAFE"],
                              extra_ro=sandbox.extra_readonly_paths(PROJECT))

        def env(trainee: str) -> dict[str, str]:
            return {"NIA_LAB_SCENARIO": spec.scenario, "NIA_LAB_TRAINEE": trainee,
                    "NIA_LAB_DURATION_S": str(spec.duration_s)}

        built = grader.build(spec.slug, self.course_dir / "labs" / lab, spec.notebooks, seed=operations.AUTHOR_SEED,
                             env=env("author"), time_limit_s=spec.time_limit_s, memory_mb=spec.memory_mb)
        results = []
        for content, seed, trainee in variants:
            result = grader.grade(spec.slug, "variant", {lab: content}, seed=seed, env=env(trainee),
                                  time_limit_s=spec.time_limit_s, memory_mb=spec.memory_mb)
            results.append((result, {c["grade_id"]: c["score"] for c in result.cells}))
        return built, results


def set_lab_env(monkeypatch, scenario: str, seed: int, trainee: str, duration_s: int) -> None:
    """The NIA_LAB_* variables the grader gives the kernel."""
    for key, value in {"NIA_LAB_SCENARIO": scenario, "NIA_LAB_SEED": str(seed), "NIA_LAB_TRAINEE": trainee,
                       "NIA_LAB_DURATION_S": str(duration_s)}.items():
        monkeypatch.setenv(key, value)


def validate_broken_copy(tmp_path: Path, courses_cli, course_dir: Path, edits: dict[str, tuple[str, str]]):
    """`courses validate` on a copy of the course (notebooks left out) with each file's text `old` made `new`."""
    import shutil

    broken = tmp_path / course_dir.name
    shutil.copytree(course_dir, broken, ignore=shutil.ignore_patterns("*.ipynb"))
    for relative, (old, new) in edits.items():
        path = broken / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, (relative, old)
        path.write_text(text.replace(old, new), encoding="utf-8")
    return courses_cli("validate", broken)


def import_course(app, courses_cli, course_dir: Path):
    """Validate and import one course; (course row, lesson count, questions, quizzes), detached for asserts."""
    from sqlalchemy import func, select

    from lms.extensions import db
    from lms.models import Course, Lesson, Module, Question, Quiz

    for command in ("validate", "import"):
        result = courses_cli(command, course_dir)
        assert result.exit_code == 0, result.output
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == course_dir.name))
        lessons = db.session.scalar(select(func.count(Lesson.id)).join(Module).where(
            Module.course_id == course.id, Lesson.archived.is_(False)))
        questions = list(db.session.scalars(select(Question).join(Quiz).join(Module).where(
            Module.course_id == course.id, Question.archived.is_(False))))
        quizzes = list(db.session.scalars(select(Quiz).join(Module).where(Module.course_id == course.id)))
        db.session.expunge_all()
    return course, lessons, questions, quizzes
