"""One simulated trainee for benchmarks/load: a browser-like HTTP client (cookies, CSRF tokens taken from the
forms it is served) that registers, browses, enrols, reads lessons, passes the course's quizzes and submits
its labs as notebook uploads, then follows its submissions until they are graded. Every request is timed per
action; an unexpected answer is recorded as an error and ends that trainee's run.

The answers come from the course files themselves (quiz keys, the labs' reference solutions), so the load test
runs on any course directory without knowing its content.
"""
from __future__ import annotations

import json
import random
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml
from bs4 import BeautifulSoup

USER_AGENT = "nia-load-trainee/1"  # one agent per session: flask-login's "strong" session protection
PASSWORD = "load test trainee password"


@dataclass
class Course:
    """What a trainee needs to know about one course to complete it: slugs, quiz keys, lab solutions."""
    slug: str
    lessons: list[str]
    quizzes: dict[str, dict[str, dict]]  # quiz slug -> prompt -> question (type, answer)
    labs: dict[str, dict[str, str]]  # lab slug -> {grade_id of an answer cell: reference source}

    @classmethod
    def from_dir(cls, directory: Path) -> "Course":
        spec = yaml.safe_load((directory / "course.yaml").read_text())
        modules = spec["modules"]
        quizzes = {}
        for slug in (q for m in modules for q in m.get("quizzes", [])):
            bank = yaml.safe_load((directory / "quizzes" / f"{slug}.yaml").read_text())
            quizzes[slug] = {" ".join(q["prompt"].split()): q for q in bank["questions"]}
        labs = {}
        for slug in (lab for m in modules for lab in m.get("labs", [])):
            solutions = {}
            for notebook in sorted((directory / "labs" / slug).glob("*.ipynb")):
                for cell in json.loads(notebook.read_text())["cells"]:
                    meta = cell.get("metadata", {}).get("nbgrader", {})
                    if meta.get("solution"):
                        solutions[meta["grade_id"]] = "".join(cell["source"])
            labs[slug] = solutions
        return cls(directory.name, [lesson for m in modules for lesson in m.get("lessons", [])], quizzes, labs)


class UnexpectedAnswer(RuntimeError):
    pass


@dataclass
class Trainee:
    base_url: str
    number: int
    course: Course
    think_s: float = 0.0
    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    submissions: list[int] = field(default_factory=list)
    graded_after_s: list[float] = field(default_factory=list)
    scores: dict[int, tuple[float, float]] = field(default_factory=dict)
    sent_at: dict[int, float] = field(default_factory=dict)
    quizzes_passed: int = 0

    def __post_init__(self) -> None:
        self.web = requests.Session()
        self.web.headers["User-Agent"] = USER_AGENT
        self.email = f"trainee{self.number:04d}@load.example.com"

    # -- one timed request --------------------------------------------------------------------------------------
    def call(self, action: str, method: str, path: str, expect: tuple[int, ...] = (200,), **kwargs):
        if self.think_s:
            time.sleep(random.uniform(0, self.think_s))
        started = time.perf_counter()
        try:
            response = self.web.request(method, self.base_url + path, timeout=120, allow_redirects=False, **kwargs)
        except requests.RequestException as error:
            raise UnexpectedAnswer(f"{action}: {method} {path}: {type(error).__name__}: {error}") from None
        self.timings[action].append(time.perf_counter() - started)
        if response.status_code not in expect:
            raise UnexpectedAnswer(f"{action}: {method} {path} answered {response.status_code}: "
                                   f"{_text(response.text)[:200]}")
        return response

    def page(self, action: str, path: str) -> BeautifulSoup:
        return BeautifulSoup(self.call(action, "GET", path).text, "html.parser")

    def post_form(self, action: str, page: BeautifulSoup, form_action: str, data: dict | list | None = None,
                  files: dict | None = None, expect: tuple[int, ...] = (302, 303)):
        """Submit the form whose action is `form_action`, with its own CSRF token (as a browser would)."""
        form = page.find("form", action=form_action) or page.find("form", action=None)
        token = form.find("input", attrs={"name": "csrf_token"}) if form else None
        if token is None:
            raise UnexpectedAnswer(f"{action}: no form with a CSRF token for {form_action}")
        fields = list(data.items()) if isinstance(data, dict) else list(data or [])
        return self.call(action, "POST", form_action, expect=expect, files=files,
                         data=[("csrf_token", token["value"]), *fields])

    # -- the journey ----------------------------------------------------------------------------------------------
    def run(self) -> None:
        try:
            self._learn()
            self._follow_grading()
        except UnexpectedAnswer as error:
            self.errors.append(str(error))
        except Exception as error:  # a crash in the client is an error of the run, not of the server
            self.errors.append(f"client: {type(error).__name__}: {error}")

    def _learn(self) -> None:
        self.call("home", "GET", "/")
        page = self.page("register page", "/accounts/register")
        self.post_form("register", page, "/accounts/register",
                       {"name": f"Load Trainee {self.number}", "email": self.email, "password": PASSWORD,
                        "confirm": PASSWORD})
        self.call("dashboard", "GET", "/dashboard")
        self.call("catalog", "GET", "/courses")
        course_path = f"/courses/{self.course.slug}"
        page = self.page("course page", course_path)
        self.post_form("enrol", page, f"{course_path}/enrol")
        for lesson in self.course.lessons:
            page = self.page("lesson", f"{course_path}/lessons/{lesson}")
            self.post_form("lesson done", page, f"{course_path}/lessons/{lesson}/done")
        page = self.page("course page", course_path)
        for link in page.find_all("a", href=re.compile(r"^/quizzes/\d+$")):
            self._take_quiz(link["href"], link.get_text(strip=True))
        for lab in self.course.labs:
            self._submit_lab(lab)

    def _take_quiz(self, quiz_path: str, title: str) -> None:
        page = self.page("quiz page", quiz_path)
        start = page.find("form", action=re.compile(r"/start$"))
        if start is None:
            raise UnexpectedAnswer(f"quiz {title}: no start button")
        sheet_url = self.post_form("quiz start", page, start["action"]).headers["Location"]
        sheet = self.page("quiz sheet", _path(sheet_url))
        key = next((bank for bank in self.course.quizzes.values()
                    if any(" ".join(p.get_text().split()) in bank for p in sheet.select(".quiz-prompt"))), None)
        if key is None:
            raise UnexpectedAnswer(f"quiz {title}: its questions are not in the course's quiz files")
        answers = []
        for fieldset in sheet.select("fieldset.quiz-question"):
            question = key[" ".join(fieldset.select_one(".quiz-prompt").get_text().split())]
            name = fieldset.select_one("input")["name"]
            answers += [(name, value) for value in _answer(question)]
        form = sheet.find("form", id="quiz-sheet")
        result_url = self.post_form("quiz submit", sheet, form["action"], answers).headers["Location"]
        result = self.page("quiz result", _path(result_url))
        if not result.select_one(".badge.ok"):
            raise UnexpectedAnswer(f"quiz {title}: not passed with the answer key: {_text(str(result))[:200]}")
        self.quizzes_passed += 1

    def _submit_lab(self, lab: str) -> None:
        lab_path = f"/labs/{self.course.slug}/{lab}"
        page = self.page("lab page", lab_path)
        download = page.find("a", href=re.compile(r"/notebook/[^/]+\.ipynb$"))
        release = self.call("notebook download", "GET", download["href"])
        notebook = release.json()
        for cell in notebook["cells"]:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id in self.course.labs[lab]:
                cell["source"] = self.course.labs[lab][grade_id]
        name = download["href"].rsplit("/", 1)[1]
        sent = time.monotonic()
        answer = self.post_form("lab submit", page, f"{lab_path}/submit",
                                files={"notebook": (name, json.dumps(notebook).encode(), "application/x-ipynb+json")})
        match = re.search(r"/labs/submissions/(\d+)$", answer.headers.get("Location", ""))
        if not match:
            raise UnexpectedAnswer(f"lab submit {lab}: not taken ({answer.headers.get('Location')})")
        self.submissions.append(int(match.group(1)))
        self.sent_at[int(match.group(1))] = sent
        self.call("submission page", "GET", f"/labs/submissions/{match.group(1)}")

    def _follow_grading(self, timeout_s: float = 1800, every_s: float = 1.0) -> None:
        """Poll each submission's status as its page does, until graded (or failed)."""
        for submission in self.submissions:
            deadline = time.monotonic() + timeout_s
            while True:
                status = self.call("grading status", "GET", f"/labs/submissions/{submission}/status").json()
                if status["final"]:
                    break
                if time.monotonic() > deadline:
                    raise UnexpectedAnswer(f"submission {submission} not graded within {timeout_s:.0f} s")
                time.sleep(every_s)
            if status["status"] != "graded":
                raise UnexpectedAnswer(f"submission {submission} ended {status['status']}: {status['error']}")
            self.graded_after_s.append(time.monotonic() - self.sent_at[submission])
            self.scores[submission] = (status["score"], status["max_score"])
            if status["score"] != status["max_score"]:
                raise UnexpectedAnswer(f"submission {submission} scored {status['score']} / {status['max_score']}"
                                       " with the reference solution")


def _answer(question: dict) -> list[str]:
    answer, kind = question["answer"], question.get("type", "single")
    if kind == "multiple":
        return [str(i) for i in answer]
    if kind == "text":
        return [answer[0] if isinstance(answer, list) else str(answer)]
    return [str(answer)]


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def _text(html: str) -> str:
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())
