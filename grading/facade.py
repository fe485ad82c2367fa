"""The one place that talks to nbgrader (NbGraderAPI), with configuration built explicitly.

Layout, one nbgrader course directory per LMS course, under <instance>/grading/courses/<course>/:
source/<lab>/ (copied from the lab folder), release/<lab>/ (generated), gradebook.db (assignment + cells).
Each grading run works in its own throw-away course directory (source linked, gradebook copied), so
concurrent workers never share nbgrader state and the LMS database stays the source of truth.
"""
from __future__ import annotations

import fcntl
import os
import re
import shutil
import sys
import time
import uuid
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import nbformat
from traitlets.config import Config

from .execute import SandboxExecute
from .feedback import cell_results, sanitised_feedback
from . import sandbox

STUDENT_RE = re.compile(r"^[a-z0-9-]{1,60}$")


class BuildError(Exception):
    """The lab cannot be released: the message names the notebook/cell and what is wrong."""


@dataclass
class RunResult:
    score: float
    max_score: float
    cells: list[dict[str, Any]]
    feedback: list[dict[str, Any]]
    messages: list[str]
    duration_s: float
    profile: str
    log: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)


def nbgrader_version() -> str:
    import nbgrader

    return nbgrader.__version__


def _ensure_venv_on_path() -> None:
    """nbgrader's gradebook runs `alembic` by name."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


class CourseGrader:
    def __init__(self, root: Path, course_slug: str, *, allow_unsafe: bool = False,
                 extra_ro: list[tuple[str, str]] | None = None, max_output_bytes: int = 1_000_000):
        self.root = Path(root)
        self.course = course_slug
        self.allow_unsafe = allow_unsafe
        self.extra_ro = extra_ro or []
        self.max_output_bytes = max_output_bytes

    # -- configuration ----------------------------------------------------------------------------------
    def _config(self, course_dir: Path, job: dict[str, Any] | None = None, time_limit_s: int = 60) -> Config:
        from nbconvert.preprocessors import ClearMetadataPreprocessor
        from nbgrader.preprocessors import CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades

        c = Config()
        c.CourseDirectory.root = str(course_dir)
        c.CourseDirectory.course_id = self.course
        c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]
        c.Autograde.autograde_preprocessors = [SandboxExecute, IgnorePattern, ClearMetadataPreprocessor,
                                               LimitOutput, SaveAutoGrades, CheckCellMetadata]
        c.SandboxExecute.wall_limit_s = time_limit_s
        c.SandboxExecute.max_output_bytes = self.max_output_bytes
        c.SandboxExecute.timeout = time_limit_s
        exchange = self.root / ".no-exchange"  # nbgrader's exchange is not used; an empty dir keeps it quiet
        exchange.mkdir(parents=True, exist_ok=True)
        c.Exchange.root = str(exchange)
        if job is not None:
            c.SandboxKernelManager.job = job
            c.SandboxKernelManager.transport = "ipc"
            c.SandboxKernelManager.connection_file = os.path.join(job["run_dir"], "kernel.json")
        return c

    def _api(self, course_dir: Path, config: Config):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        _ensure_venv_on_path()
        return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)

    def _call(self, course_dir: Path, config: Config, method: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        # nbgrader's gradebook trips SQLAlchemy 2 warnings that are not ours to fix.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return getattr(self._api(course_dir, config), method)(*args, **kwargs)

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- build --------------------------------------------------------------------------------------------
    def build(self, lab_slug: str, source_dir: Path, notebooks: list[str], *, seed: int, env: dict[str, str],
              time_limit_s: int, memory_mb: int) -> dict[str, Any]:
        """Generate the release and run the authoring check; returns {"points", "cells"} or raises BuildError."""
        with self._lock():
            target = self.root / "source" / lab_slug
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source_dir, target, ignore=shutil.ignore_patterns("lab.yaml", ".ipynb_checkpoints"))
            result = self._call(self.root, self._config(self.root), "generate_assignment", lab_slug, force=True)
            if not result.get("success"):
                raise BuildError(_nbgrader_error(result))
        release = self.root / "release" / lab_slug
        sources = {nb: (target / f"{nb}.ipynb").read_bytes() for nb in notebooks}
        blanks = {nb: (release / f"{nb}.ipynb").read_bytes() for nb in notebooks}
        solution = self.grade(lab_slug, "author-solution", sources, seed=seed, env=env,
                              time_limit_s=time_limit_s, memory_mb=memory_mb)
        if solution.max_score <= 0:
            raise BuildError("the lab has no auto-graded test cell (nbgrader 'grade' cells with points)")
        for cell in solution.cells:
            if cell.get("manual"):
                raise BuildError(f"{cell['notebook']}.ipynb cell '{cell['grade_id']}' needs manual grading; "
                                 "labs here are graded automatically only")
            if cell["score"] < cell["max_score"]:
                raise BuildError(f"{cell['notebook']}.ipynb cell '{cell['grade_id']}' scores {cell['score']:g}/"
                                 f"{cell['max_score']:g} with the solution (expected full marks)"
                                 + (f": {cell['error']}" if cell.get("error") else ""))
        blank = self.grade(lab_slug, "author-release", blanks, seed=seed, env=env,
                           time_limit_s=time_limit_s, memory_mb=memory_mb)
        for cell in blank.cells:
            if cell["score"] > 0:
                raise BuildError(f"{cell['notebook']}.ipynb cell '{cell['grade_id']}' gives {cell['score']:g}/"
                                 f"{cell['max_score']:g} on the blank release (expected 0): its test passes "
                                 "without an answer")
        return {"points": solution.max_score, "cells": [c["grade_id"] for c in solution.cells],
                "duration_s": solution.duration_s + blank.duration_s}

    def release_notebook(self, lab_slug: str, notebook: str) -> Path:
        return self.root / "release" / lab_slug / f"{notebook}.ipynb"

    def release_files(self, lab_slug: str) -> list[str]:
        """Data files shipped with the release (trainees need them to run the notebook)."""
        release = self.root / "release" / lab_slug
        if not release.is_dir():
            return []
        return sorted(str(p.relative_to(release)) for p in release.rglob("*")
                      if p.is_file() and p.suffix != ".ipynb" and ".ipynb_checkpoints" not in p.parts)

    def is_built(self, lab_slug: str) -> bool:
        return (self.root / "gradebook.db").is_file() and (self.root / "release" / lab_slug).is_dir()

    # -- grade --------------------------------------------------------------------------------------------
    def grade(self, lab_slug: str, student: str, files: dict[str, bytes], *, seed: int, env: dict[str, str],
              time_limit_s: int, memory_mb: int) -> RunResult:
        """Autograde notebooks {name: bytes} in a private course directory; kernel in the sandbox."""
        if not STUDENT_RE.match(student):
            raise ValueError(f"bad student id {student!r}")
        started = time.monotonic()
        work = self.root / "runs" / f"{student}-{uuid.uuid4().hex[:12]}"
        work.mkdir(parents=True)
        job: dict[str, Any] = {}
        try:
            with self._lock():
                shutil.copy2(self.root / "gradebook.db", work / "gradebook.db")
            (work / "source").symlink_to(self.root / "source", target_is_directory=True)
            submitted = work / "submitted" / student / lab_slug
            submitted.mkdir(parents=True)
            for name, content in files.items():
                (submitted / f"{name}.ipynb").write_bytes(content)
            job = sandbox.prepare_job_dirs(work / "sandbox", self.allow_unsafe)
            job.update(memory_mb=memory_mb, time_limit_s=time_limit_s, extra_ro=self.extra_ro,
                       env={"NIA_LAB_SEED": str(seed), **env})
            config = self._config(work, job, time_limit_s)
            result = self._call(work, config, "autograde", lab_slug, student, force=True, create=True)
            if not result.get("success"):
                raise BuildError(_nbgrader_error(result))
            autograded = work / "autograded" / student / lab_slug
            notebooks = {name: nbformat.read(autograded / f"{name}.ipynb", as_version=4)
                         for name in files if (autograded / f"{name}.ipynb").exists()}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cells = cell_results(f"sqlite:///{work / 'gradebook.db'}", self.course, lab_slug, student, notebooks)
            messages = _run_messages(notebooks)
            return RunResult(score=round(sum(c["score"] for c in cells), 4),
                             max_score=round(sum(c["max_score"] for c in cells), 4), cells=cells,
                             feedback=sanitised_feedback(notebooks, cells), messages=messages,
                             duration_s=round(time.monotonic() - started, 3), profile=job["profile"],
                             log=result.get("log", "")[-4000:])
        finally:
            sandbox.cleanup_job_dirs(job)
            shutil.rmtree(work, ignore_errors=True)


def _run_messages(notebooks: dict[str, Any]) -> list[str]:
    """Plain-language notes for the trainee: time limit, kernel death, truncated output."""
    seen: list[str] = []
    for nb in notebooks.values():
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error" and out.get("ename") in ("TimeLimitExceeded", "KernelDied"):
                    if out["evalue"] not in seen:
                        seen.append(out["evalue"])
                elif out.get("output_type") == "stream" and "[output truncated" in out.get("text", ""):
                    note = "Output was truncated because the notebook printed too much."
                    if note not in seen:
                        seen.append(note)
    return seen


def _nbgrader_error(result: dict[str, Any]) -> str:
    """nbgrader's own message, without its Python traceback frames."""
    text = (result.get("log") or "") + "\n" + (result.get("error") or "")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    useful = [ln for ln in lines if re.search(r"\[(ERROR|CRITICAL)\]|Error:|error:", ln)
              and not ln.startswith(("File ", "Traceback"))]
    message = (useful[-1] if useful else (lines[-1] if lines else "nbgrader failed"))
    return re.sub(r"^\[\w+ [^\]]*\]\s*", "", message)[:600]
