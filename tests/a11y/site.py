"""A live LMS for the browser tests: its own app, database and files; every course in courses/ as it is; the sample
grading lab; and one account of every role with real history (enrolments, lessons done, a passed quiz, an open
attempt, a certificate, a token). It runs in a process of its own (`python -m tests.a11y.serve`, werkzeug, threaded)
on a free port in 25000-25999 (NIA_A11Y_PORT_RANGE overrides, e.g. "26000-26999"), so nothing the server does
(nbgrader kernels, sockets) leaks into the test process.

Completing a course needs its notebook labs passed, which happens in JupyterLab, outside the LMS pages under test.
So the journeys use JOURNEY_COURSE: a copy of the sample course with its labs taken out (same lessons, same quiz,
completion by lessons and quiz), imported beside the real one."""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml
from werkzeug.datastructures import MultiDict
from werkzeug.serving import make_server

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "keyboard only 2 the end"
COURSE = "mqtt-basics"
JOURNEY_COURSE = "mqtt-basics-without-labs"
LAB_COURSE, LAB = "grading-sample", "oee-shift"
ROLES = ("trainee", "instructor", "admin")


@dataclass
class Site:
    base_url: str
    database_url: str
    emails: dict[str, str]
    ids: dict[str, object] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base_url + path

    def question(self, question_id: int) -> tuple[str, object]:
        """(kind, answer) of a quiz question: the test plays a trainee who knows the answers."""
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session

        from lms.models import Question

        engine = create_engine(self.database_url)
        try:
            with Session(engine) as session:
                question = session.get(Question, question_id)
                return question.kind, question.answer
        finally:
            engine.dispose()


def free_port(exclude: tuple[int, ...] = ()) -> int:
    low, high = (int(p) for p in os.environ.get("NIA_A11Y_PORT_RANGE", "25000-25999").split("-"))
    candidates = list(range(low, high + 1))
    random.shuffle(candidates)
    for port in [p for p in candidates if p not in exclude][:200]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high}")


def start_simulator(root: Path, lms_port: int) -> tuple[dict, Callable[[], None]]:
    """The virtual lab as `make run` has it (embedded broker, line service, control API), so the trainee's line page
    is checked with a running line whose figures the page's script keeps updating. Returns (LMS settings, stop)."""
    from virtual_lab import settings
    from virtual_lab.broker import start_broker
    from virtual_lab.control import make_server as control_server
    from virtual_lab.control import serve_in_thread
    from virtual_lab.service import LabService

    mqtt_port = free_port(exclude=(lms_port,))
    lab_settings = settings.load(mqtt_port=mqtt_port, state_dir=root / "lab", credential_secret="a11y-lab-secret")
    broker = start_broker(lab_settings, "embedded")
    service = LabService(lab_settings).start()
    port, token = free_port(exclude=(lms_port, mqtt_port)), "a11y-control-token-0123456789"
    control = control_server(service, "127.0.0.1", port, token)
    serve_in_thread(control)

    def stop() -> None:
        control.shutdown()
        control.server_close()
        service.close()
        broker.stop()

    return {"MQTT_HOST": "127.0.0.1", "MQTT_PORT": lab_settings.mqtt_port, "LAB_STATE_DIR": str(root / "lab"),
            "LAB_CREDENTIAL_SECRET": "a11y-lab-secret", "LAB_SERVICE_URL": f"http://127.0.0.1:{port}",
            "LAB_SERVICE_TOKEN": token}, stop


def build_app(root: Path, base_url: str, lab_config: dict):
    from lms import create_app
    from lms.extensions import db

    courses = root / "courses"
    _copy_courses(courses)
    instance = root / "instance"
    app = create_app({
        "NIA_ENV": "testing", "SECRET_KEY": "a11y-test-secret-key-not-for-production",
        "INSTANCE_DIR": str(instance), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'a11y.db'}",
        "MAIL_BACKEND": "file", "MAIL_FILE_DIR": str(instance / "mail"), "COURSES_DIR": str(courses),
        "CERTS_KEY_DIR": str(root / "keys"), "CERTS_AUTO_KEYGEN": True, "LOGIN_FAILURES_PER_IP": 500,
        "PUBLIC_BASE_URL": base_url, **lab_config,
    })
    with app.app_context():
        db.create_all()
    return app


def course_dirs() -> list[Path]:
    """Every course directory in courses/ (NIA_A11Y_COURSES="a,b" limits the site to those, e.g. while another
    course is being written; the sample course is always there)."""
    wanted = {name.strip() for name in os.environ.get("NIA_A11Y_COURSES", "").split(",") if name.strip()}
    return [path for path in sorted((REPO / "courses").iterdir()) if (path / "course.yaml").is_file()
            and (not wanted or path.name in wanted or path.name == COURSE)]


def _copy_courses(target: Path) -> None:
    """The course directories, plus the journey copy of the sample course."""
    target.mkdir(parents=True)
    for source in course_dirs():
        shutil.copytree(source, target / source.name)
    _journey_copy(target / COURSE, target / JOURNEY_COURSE)


def _journey_copy(source: Path, target: Path) -> None:
    """The sample course without labs: a trainee can complete it in the LMS alone."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("labs"))
    spec = yaml.safe_load((target / "course.yaml").read_text(encoding="utf-8"))
    spec["title"] = f"{spec['title']} (lessons and quiz)"
    for translation in (spec.get("translations") or {}).values():
        translation.pop("title", None)
    for module in spec["modules"]:
        module.pop("labs", None)
    spec["completion"] = {**spec.get("completion", {}), "labs": "none"}
    (target / "course.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _import_content(app, root: Path) -> None:
    from lms import signals
    from lms.content.importer import ContentInvalid, import_courses
    from lms.extensions import db
    from lms.models import Course
    from tests.fixtures.grading import DATA

    try:
        import_courses(root / "courses")
    except ContentInvalid as invalid:
        raise RuntimeError("courses/ does not validate, so the pages cannot be served:\n"
                           + "\n".join(str(e) for e in invalid.errors)) from None
    lab_dir = root / "lab-courses" / LAB_COURSE
    shutil.copytree(DATA, lab_dir)
    course = Course(slug=LAB_COURSE, title="Grading sample course", summary="A notebook lab on the factory line.")
    db.session.add(course)
    db.session.flush()
    signals.course_imported.send(app, course_dir=lab_dir, course=course, session=db.session)
    db.session.commit()


def _answers_for(questions) -> MultiDict:
    """The correct answer to each drawn question, as the quiz form posts it."""
    form = MultiDict()
    for q in questions:
        name = f"q-{q.id}"
        if q.kind == "single":
            form.add(name, str(q.answer))
        elif q.kind == "multiple":
            for index in q.answer:
                form.add(name, str(index))
        elif q.kind == "numeric":
            form.add(name, str(q.answer))
        else:
            form.add(name, q.answer[0] if isinstance(q.answer, list) else str(q.answer))
    return form


def _trainee_history(app, site: Site, users: dict) -> None:
    """Everything a trainee who finished the course has: lessons done, a passed quiz (so a certificate), a second
    attempt left open, a lab enrolment and an API token."""
    from certificates import queries as cert_queries
    from lms.accounts.tokens import create_token
    from lms.extensions import db
    from lms.learning import operations as learning
    from lms.models import Course, Enrolment, Module, Quiz
    from lms.quizzes import operations as quizzes
    from lms.quizzes import queries as quiz_queries
    from virtual_lab.webops import start_own_line

    trainee = users["trainee"]
    course = db.session.scalar(db.select(Course).where(Course.slug == JOURNEY_COURSE))
    learning.enrol(trainee, course)
    db.session.commit()
    for module in course.modules:
        for lesson in module.lessons:
            learning.mark_lesson_done(trainee, lesson)
    db.session.commit()
    quiz = db.session.scalars(db.select(Quiz).join(Quiz.module).where(Module.course_id == course.id)).first()
    attempt, _resumed = quizzes.start_attempt(trainee.id, quiz)
    quizzes.submit_attempt(trainee.id, attempt, _answers_for(quiz_queries.attempt_questions(attempt)))
    assert attempt.passed, "the seeded attempt must pass (certificate pages need it)"
    open_attempt, _resumed = quizzes.start_attempt(trainee.id, quiz)
    lab_course = db.session.scalar(db.select(Course).where(Course.slug == LAB_COURSE))
    db.session.add(Enrolment(user_id=trainee.id, course_id=lab_course.id, status="active"))
    sample = db.session.scalar(db.select(Course).where(Course.slug == COURSE))
    learning.enrol(trainee, sample)  # the real course, with its labs, part-way through
    first, second = sample.modules[0].lessons[:2]
    learning.mark_lesson_done(trainee, first)
    site.ids["locked_lesson"] = sample.modules[1].lessons[0].slug  # its module needs the first one done
    create_token(trainee, "lab notebook")
    ok, message = start_own_line(trainee, app.config["LAB_DEFAULT_SCENARIO"])
    assert ok, message
    db.session.commit()
    credential = cert_queries.current_for(trainee.id, JOURNEY_COURSE)
    assert credential is not None, "completing the course must issue a certificate"
    site.ids.update(first_lesson=first.slug, second_lesson=second.slug, quiz=quiz.id, result=attempt.id,
                    open_attempt=open_attempt.id, credential=credential.id)


def _build_sample_lab() -> bool:
    """Build the lab now rather than on the first page visit (nbgrader in the sandbox takes seconds); without
    bubblewrap the build fails and the lab pages say so (503), which is a page worth checking too."""
    from grading import queries
    from grading.facade import BuildError
    from grading.operations import ensure_built
    from lms.extensions import db

    lab = queries.get_lab(LAB_COURSE, LAB)
    try:
        ensure_built(lab)
    except BuildError:
        db.session.commit()  # keeps the recorded build error
        return False
    db.session.commit()
    return True


def _graded_submissions(app, trainee_id: int) -> dict[str, int]:
    """The blank release (fails, with error feedback) and the reference solution (passes), graded in the sandbox as
    the worker grades them, so the submission pages show real scores, test results and feedback."""
    from grading import operations, queries
    from grading.worker import run_job
    from lms.extensions import db
    from lms.models import User
    from tests.fixtures.grading import SOLUTION, with_answer

    lab, trainee = queries.get_lab(LAB_COURSE, LAB), db.session.get(User, trainee_id)
    ids = {}
    for name, content in (("failed", with_answer(app, "raise NotImplementedError()")),
                          ("passed", with_answer(app, SOLUTION))):
        submission, _created = operations.submit(trainee, lab, f"{LAB}.ipynb", content)
        db.session.commit()
        status = run_job(submission.jobs[-1].id, "a11y-seed")
        assert status == "graded", f"the {name} sample submission was not graded: {status}"
        ids[f"submission_{name}"] = submission.id
    return ids


def seed(app, site: Site) -> None:
    from lms.accounts.operations import create_user
    from lms.accounts.passwords import make_reset_token
    from lms.extensions import db

    with app.app_context(), app.test_request_context(base_url=site.base_url):
        _import_content(app, Path(app.config["COURSES_DIR"]).parent)
        names = {"trainee": "Chan Tai Man", "instructor": "Wong Siu Ling", "admin": "Lee Ka Yan"}
        users = {role: create_user(site.emails[role], PASSWORD, name=names[role], role=role) for role in ROLES}
        db.session.commit()
        _trainee_history(app, site, users)
        built = _build_sample_lab()
        site.ids["lab_status"] = 200 if built else 503
        site.ids.update(_graded_submissions(app, users["trainee"].id) if built else
                        {"submission_failed": 0, "submission_passed": 0})
        site.ids["submission_status"] = 200 if built else 404
        site.ids["reset_token"] = make_reset_token(users["instructor"])
        site.ids.update({f"{role}_id": user.id for role, user in users.items()})


class ServerProcess:
    """The site's server process; `stop()` ends it (and only it)."""

    def __init__(self, root: Path, port: int):
        self.root, self.port = root, port
        self.log_path = root / "server.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "tests.a11y.serve", str(root), str(port)],
                                            cwd=REPO, stdout=log, stderr=subprocess.STDOUT)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self, timeout: float) -> dict:
        ready = self.root / "site.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the a11y site server exited with {self.process.returncode}:\n{self.log_tail()}")
            if ready.is_file():
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                        return json.loads(ready.read_text())
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the a11y site server was not ready after {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def serve(root: Path, port: int) -> None:
    """The server process: build, seed, write site.json, serve until terminated."""
    base_url = f"http://127.0.0.1:{port}"
    lab_config, stop_simulator = start_simulator(root, port)
    app = build_app(root, base_url, lab_config)
    site = Site(base_url=base_url, database_url=app.config["SQLALCHEMY_DATABASE_URI"],
                emails={role: f"{role}@a11y.example.test" for role in ROLES})
    seed(app, site)
    server = make_server("127.0.0.1", port, app, threaded=True)
    partial = root / "site.json.part"
    partial.write_text(json.dumps({"emails": site.emails, "ids": site.ids, "database_url": site.database_url}))
    partial.replace(root / "site.json")
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    server.server_close()
    stop_simulator()


def start_site(root: Path, timeout: float = 300) -> tuple[Site, ServerProcess]:
    port = free_port()
    server = ServerProcess(root, port)
    info = server.wait_ready(timeout)
    site = Site(base_url=f"http://127.0.0.1:{port}", database_url=info["database_url"], emails=info["emails"],
                ids=info["ids"])
    return site, server
