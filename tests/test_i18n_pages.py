"""No English slips into a Chinese page.

How: every page a trainee, an instructor, an administrator or an anonymous employer sees is rendered in zh_Hant
(and the main ones in zh_Hans) with data that is itself Chinese (names, a course translated field by field). The
visible text — text nodes outside script/style/code, and the attributes people read or hear: title, alt,
placeholder, aria-label, button values — must then contain no Latin-letter word except a short list of names that
stay as they are in Chinese (NI Academy, CSV, PDF, JupyterLab …), e-mail addresses, URLs and identifiers. A string
that was never marked with _() shows up as English here even though the catalogue check passes, and so does a
marked one whose translation is missing or not compiled.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from lms.extensions import db
from lms.models import Course, Enrolment
from lms.translations import compile_stale

# Names and notations that Chinese pages keep as they are.
KEPT = ("NI Academy", "English", "JupyterLab", "LinkedIn", "Open Badges", "Authorization: Bearer TOKEN",
        "SHA-256", "IIoT", "CSV", "PDF", "JSON", "PNG", "SVG", "API", "QR", "IP", "UTC", "KB", "MB", "AI", "MQTT")
# e-mail addresses, URLs, DIDs, UUIDs, hashes, `commands`, audit codes (login.success, user:3), file names,
# environment variables (NIA_LAB_SEED)
_IDENTIFIERS = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+|https?://\S+|did:[\w:.%-]+|urn:uuid:[0-9a-f-]+"
                          r"|[0-9a-f]{8}-[0-9a-f-]{27}|\b[0-9a-f]{16,}\b|`[^`]*`|\b[a-z_]+(\.[a-z_]+)+\b"
                          r"|\b[a-z_]+:[\w.-]+|(\b[\w-]+)?\.(ipynb|csv|json|pdf|png|svg)\b"
                          r"|\b[A-Z][A-Z0-9]*(_[A-Z0-9]+)+\b")
_READ_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label")
_HIDDEN = {"script", "style", "code", "pre", "template"}

COURSE = {
    "course.yaml": """\
        title: Sensors on the line
        summary: Reading machine sensors.
        level: beginner
        hours: 1.5
        prerequisites: []
        achievement:
          name: Sensor reader
          description: Reads sensors.
          criteria: Finish the lesson and pass the quiz.
          alignments: []
        modules:
          - slug: basics
            title: Basics
            summary: The first steps.
            lessons: [first]
            quizzes: [check]
            translations:
              zh_Hant: {title: 基礎, summary: 第一步。}
              zh_Hans: {title: 基础, summary: 第一步。}
        translations:
          zh_Hant: {title: 生產線上的感測器, summary: 讀取機器感測器。}
          zh_Hans: {title: 生产线上的传感器, summary: 读取机器传感器。}
        """,
    "lessons/first.md": "---\ntitle: First lesson\nminutes: 5\n---\nEnglish body.\n",
    "lessons/first.zh_Hant.md": "---\ntitle: 第一課\n---\n第一課的內容。\n",
    "lessons/first.zh_Hans.md": "---\ntitle: 第一课\n---\n第一课的内容。\n",
    "quizzes/check.yaml": """\
        title: Check
        draw: 2
        attempts: 3
        pass_mark: 50
        time_limit_minutes: 10
        translations:
          zh_Hant: {title: 小測}
          zh_Hans: {title: 小测}
        questions:
          - id: q1
            type: single
            prompt: Pick b
            options: [a, b]
            answer: 1
            explanation: b is right
            translations:
              zh_Hant: {prompt: 選乙, options: [甲, 乙], explanation: 乙是對的}
              zh_Hans: {prompt: 选乙, options: [甲, 乙], explanation: 乙是对的}
          - id: q2
            type: numeric
            prompt: "2 + 2?"
            answer: 4
            tolerance: 0.1
            translations:
              zh_Hant: {prompt: 二加二等於？}
              zh_Hans: {prompt: 二加二等于？}
        """,
}


@pytest.fixture(autouse=True, scope="module")
def compiled_catalogues(app):
    """pytest may be started without `make test`: build missing or stale .mo files as make would, and make the app
    load them afresh (Flask-Babel keeps loaded catalogues for the life of the process)."""
    if compile_stale():
        with app.app_context():
            app.extensions["babel"].instance.domain_instance.cache.clear()
        app.extensions.pop("nia.catalogues", None)


class _VisibleText(HTMLParser):
    """Collects what a reader sees or hears, except code and text explicitly marked as English (lang="en": the
    language links, a technical detail quoted as it is)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in _HIDDEN or (values.get("lang") or "zh").startswith("en"):
            self._hidden.append(tag)
        if self._hidden:
            return
        self.parts += [values[a] or "" for a in _READ_ATTRIBUTES if a in values]
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])
        if tag == "meta" and values.get("name") == "description":
            self.parts.append(values.get("content") or "")

    def handle_endtag(self, tag):
        if self._hidden and self._hidden[-1] == tag:
            self._hidden.pop()

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def english_words(html: str, data: tuple[str, ...] = ()) -> list[str]:
    """Latin-letter words left in the visible text once kept names, the page's own data and identifiers are out."""
    parser = _VisibleText()
    parser.feed(html)
    text = _IDENTIFIERS.sub(" ", " ".join(parser.parts))
    for kept in sorted((*KEPT, *data), key=len, reverse=True):
        text = text.replace(kept, " ")
    return sorted(set(re.findall(r"[A-Za-z]{2,}", text)))


def test_the_detector_sees_unmarked_text_attributes_and_ignores_code_and_data():
    html = ('<title>課程</title><main><h1>課程 Courses</h1><button aria-label="Close">×</button>'
            '<input type="submit" value="Send"><code>flask run</code><p>陳大文 chan@example.test NI Academy</p>'
            '<img alt="Chart"><script>var x = "hidden";</script><small lang="en">(as quoted)</small></main>')
    assert english_words(html) == ["Chart", "Close", "Courses", "Send"]
    assert english_words("<p>課程 Sensor reader</p>", data=("Sensor reader",)) == []


@pytest.fixture
def chinese_site(app, client, make_user, sign_in, course_tree, imported, quiz_flow, complete_course):
    """A course translated field by field, people with Chinese names, a finished quiz attempt, a certificate."""
    course_tree.files.clear()
    imported(course_tree.add("sensors", COURSE))
    people = {"trainee": make_user(name="陳大文"), "instructor": make_user("instructor", name="李老師"),
              "admin": make_user("admin", name="黃管理")}
    with app.app_context():
        course = db.session.query(Course).filter_by(slug="sensors").one()
        quiz_id = course.modules[0].quizzes[0].id
        db.session.add(Enrolment(user_id=people["trainee"].id, course_id=course.id))
        db.session.commit()
        course_id = course.id
    sign_in(people["trainee"])
    client.get("/locale/zh_Hant")
    attempt = quiz_flow.start_id(quiz_id)
    _sheet, question_ids = quiz_flow.sheet(attempt)
    assert quiz_flow.submit(attempt, {f"q-{q}": "1" for q in question_ids}).status_code == 302
    certificate = complete_course(people["trainee"].id, course_id, evidence=[])
    return {"people": people, "course_id": course_id, "quiz_id": quiz_id, "attempt": attempt,
            "certificate": certificate, "data": ("Sensor reader", "Reads sensors.",
                                                 "Finish the lesson and pass the quiz.", "sensors")}


def _pages_of(role: str, site: dict) -> tuple[list[str], object]:
    person = site["people"].get(role)
    return {
        "anonymous": ["/", "/accounts/login", "/accounts/register", "/accounts/reset", "/accounts/reset/not-a-token",
                      "/courses", "/courses/sensors", "/verify", f"/verify?id={site['certificate']}", "/no-such-page"],
        "trainee": ["/dashboard", "/courses", "/courses/sensors", "/courses/sensors/lessons/first", "/quizzes/",
                    f"/quizzes/{site['quiz_id']}", f"/quizzes/attempts/{site['attempt']}/result", "/certificates/",
                    "/accounts/profile", "/labs/", "/lab/", "/admin/users"],
        "instructor": ["/instructor/", "/instructor/courses/sensors/gradebook",
                       f"/instructor/courses/sensors/trainees/{site['people']['trainee'].id}",
                       f"/instructor/courses/sensors/attempts/{site['attempt']}"],
        "admin": ["/admin/users", "/admin/audit", "/certificates/admin"],
    }[role], person


def _scenario_titles() -> list[str]:
    """The simulated line's scenarios are content with English titles only (their files have no translations yet)."""
    from virtual_lab.scenarios import list_scenarios

    return [s["title"] for s in list_scenarios()]


@pytest.mark.parametrize("locale", ["zh_Hant", "zh_Hans"])
@pytest.mark.parametrize("role", ["anonymous", "trainee", "instructor", "admin"])
def test_pages_show_no_english_ui_text(app, client, sign_in, chinese_site, role, locale):
    paths, person = _pages_of(role, chinese_site)
    if person is None:
        with client.session_transaction() as session:
            session.clear()
    else:
        sign_in(person)
    client.get(f"/locale/{locale}")
    data = (*chinese_site["data"], *(p.name for p in chinese_site["people"].values()), *_scenario_titles())
    found = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code in (200, 400, 403, 404, 503), (path, response.status_code)
        html = response.get_data(as_text=True)
        assert f'lang="{"zh-Hant-HK" if locale == "zh_Hant" else "zh-Hans"}"' in html, path
        words = english_words(html, data)
        if words:
            found[path] = words
    assert not found, f"English words on {locale} pages: {found}"


@pytest.mark.slow
@pytest.mark.bwrap
def test_lab_pages_show_no_english_ui_text(app, client, make_user, sign_in, grading_trainee, grading_run):
    """The grading pages, with a graded submission: built by nbgrader in the sandbox, so marked slow."""
    from tests.fixtures.grading import COURSE_SLUG, LAB_SLUG, SOLUTION, with_answer

    lab_url = f"/labs/{COURSE_SLUG}/{LAB_SLUG}"
    submission_id, status = grading_run(grading_trainee, with_answer(app, SOLUTION))
    assert status == "graded"
    data = ("OEE on your own shift", "normal-shift", "Grading sample course", COURSE_SLUG, LAB_SLUG,
            grading_trainee.name, "nbgrader",
            "answers", "intro", "shift-data", "test-availability", "test-oee")  # the notebook's grade ids
    found = {}
    for person, paths in ((grading_trainee, ["/labs/", lab_url, f"/labs/submissions/{submission_id}",
                                             f"/labs/submissions/{submission_id}/result"]),
                          (make_user("instructor", name="李老師"), [f"/labs/{COURSE_SLUG}/gradebook",
                                                                    f"{lab_url}/source",
                                                                    f"/labs/submissions/{submission_id}"])):
        sign_in(person)
        client.get("/locale/zh_Hant")
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            words = english_words(response.get_data(as_text=True), data)
            if words:
                found[path] = words
    assert not found, f"English words on zh_Hant lab pages: {found}"
