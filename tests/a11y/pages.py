"""Every kind of page the accessibility tests visit, by role, and how to reach it as its user would: the language
chosen with the header's language link, then the page; form pages also after a failed submission, because error
messages are where accessibility usually breaks."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from urllib.parse import quote

from tests.a11y.site import COURSE, JOURNEY_COURSE, LAB, LAB_COURSE

LOCALES = {"en": "en", "zh_Hant": "zh-Hant-HK"}


def submit_empty(page) -> None:
    """Press the page's main submit button without filling anything in (validation errors are shown)."""
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").first.press("Enter")


def submit_in(form_selector: str, fill: dict[str, str] | None = None) -> Callable:
    def act(page) -> None:
        for selector, value in (fill or {}).items():
            page.fill(selector, value)
        with page.expect_navigation():
            page.locator(f"{form_selector} button[type=submit]").press("Enter")
    return act


def upload_in(form_selector: str, input_selector: str, name: str, content: bytes) -> Callable:
    def act(page) -> None:
        page.set_input_files(f"{form_selector} {input_selector}",
                             files=[{"name": name, "mimeType": "application/octet-stream", "buffer": content}])
        with page.expect_navigation():
            page.locator(f"{form_selector} button[type=submit]").press("Enter")
    return act


def wait_for_live_line(page) -> None:
    """The line page once its script has shown live data (the machine states arrive over SSE from MQTT)."""
    page.wait_for_function("() => [...document.querySelectorAll('.lab-state')].every(e => e.textContent !== '…')"
                           " && document.getElementById('lab-online').classList.contains('ok')")


@dataclass(frozen=True)
class PageKind:
    name: str
    role: str
    path: str  # str.format()ed with the site's ids
    status: int | str = 200  # a str names the expected status in the site's ids
    then: Callable | None = None  # an action after loading (a failed submission); its page is what is checked


PAGES = [
    PageKind("home", "anonymous", "/"),
    PageKind("catalog", "anonymous", "/courses"),
    PageKind("course", "anonymous", f"/courses/{COURSE}"),
    PageKind("login", "anonymous", "/accounts/login"),
    PageKind("login-errors", "anonymous", "/accounts/login", then=submit_in(
        "main form", {"#email": "nobody@a11y.example.test", "#password": "not the password"})),
    PageKind("register", "anonymous", "/accounts/register"),
    PageKind("register-errors", "anonymous", "/accounts/register", then=submit_empty),
    PageKind("reset-request", "anonymous", "/accounts/reset"),
    PageKind("reset-request-errors", "anonymous", "/accounts/reset", then=submit_empty),
    PageKind("reset-password", "anonymous", "/accounts/reset/{reset_token}"),
    PageKind("reset-password-errors", "anonymous", "/accounts/reset/{reset_token}", then=submit_in(
        "main form", {"#password": "short", "#confirm": "different"})),
    PageKind("reset-invalid", "anonymous", "/accounts/reset/not-a-token", status=400),
    PageKind("verify", "anonymous", "/verify"),
    PageKind("verify-valid", "anonymous", "/verify?id={credential}"),
    PageKind("verify-unknown", "anonymous", "/verify?id=00000000-0000-0000-0000-000000000000"),
    PageKind("verify-upload-invalid", "anonymous", "/verify", then=upload_in(
        "form[action$='/verify'][method=post]", "#verify-file", "badge.json", b'{"type": "not a credential"}')),
    PageKind("verify-bulk", "anonymous", "/verify", then=submit_in(
        "form[action$='/verify/bulk']", {"#bulk-ids": "{credential}\nnot-one-of-ours"})),
    PageKind("error-404", "anonymous", "/no-such-page", status=404),
    PageKind("error-403", "trainee", "/admin/users", status=403),
    PageKind("dashboard", "trainee", "/dashboard"),
    PageKind("catalog-signed-in", "trainee", "/courses"),
    PageKind("course-in-progress", "trainee", f"/courses/{COURSE}"),
    PageKind("course-completed", "trainee", f"/courses/{JOURNEY_COURSE}"),
    PageKind("lesson-done", "trainee", f"/courses/{JOURNEY_COURSE}/lessons/{{first_lesson}}"),
    PageKind("lesson-to-do", "trainee", f"/courses/{COURSE}/lessons/{{second_lesson}}"),
    PageKind("lesson-locked", "trainee", f"/courses/{COURSE}/lessons/{{locked_lesson}}", status=403),
    PageKind("quizzes", "trainee", "/quizzes/"),
    PageKind("quiz-start", "trainee", "/quizzes/{quiz}"),
    PageKind("quiz-attempt", "trainee", "/quizzes/attempts/{open_attempt}"),
    PageKind("quiz-result", "trainee", "/quizzes/attempts/{result}/result"),
    PageKind("profile", "trainee", "/accounts/profile"),
    PageKind("profile-password-errors", "trainee", "/accounts/profile", status=200, then=submit_in(
        "form[action$='/profile/password']", {"#current_password": "wrong"})),
    PageKind("tokens-new", "trainee", "/accounts/profile", then=submit_in(
        "form[action$='/profile/tokens']", {"#token_name": "dashboard script"})),
    PageKind("lab-launch", "trainee", f"/launch/{LAB_COURSE}/{LAB}", status="lab_status"),
    PageKind("lab-grading", "trainee", f"/labs/{LAB_COURSE}/{LAB}"),
    PageKind("lab-submission-failed", "trainee", "/labs/submissions/{submission_failed}", "submission_status"),
    PageKind("lab-submission-passed", "trainee", "/labs/submissions/{submission_passed}", "submission_status"),
    PageKind("labs", "trainee", "/labs/"),
    PageKind("production-line", "trainee", "/lab/", then=wait_for_live_line),
    PageKind("certificates", "trainee", "/certificates/"),
    PageKind("instructor-courses", "instructor", "/instructor/"),
    PageKind("instructor-gradebook", "instructor", f"/instructor/courses/{JOURNEY_COURSE}/gradebook"),
    PageKind("instructor-trainee", "instructor", f"/instructor/courses/{JOURNEY_COURSE}/trainees/{{trainee_id}}"),
    PageKind("instructor-attempt", "instructor", f"/instructor/courses/{JOURNEY_COURSE}/attempts/{{result}}"),
    PageKind("lab-upload", "instructor", f"/labs/{LAB_COURSE}/{LAB}/source"),
    PageKind("lab-upload-errors", "instructor", f"/labs/{LAB_COURSE}/{LAB}/source", then=upload_in(
        "main form[method=post]", "input[type=file]", f"{LAB}.ipynb", b"this is not a notebook")),
    PageKind("lab-gradebook", "instructor", f"/labs/{LAB_COURSE}/gradebook"),
    PageKind("lab-submission-staff", "instructor", "/labs/submissions/{submission_passed}", "submission_status"),
    PageKind("admin-users", "admin", "/admin/users"),
    PageKind("admin-audit", "admin", "/admin/audit"),
    PageKind("admin-certificates", "admin", "/certificates/admin"),
]


def open_page(kind: PageKind, locale: str, role_pages, site):
    """Load the page kind in `locale` for its role, check it answered as expected, run its follow-up action."""
    page = role_pages(kind.role)
    path = kind.path.format(**site.ids)
    status = site.ids[kind.status] if isinstance(kind.status, str) else kind.status
    response = page.goto(site.url(f"/locale/{locale}?next={quote(path, safe='')}"))
    assert response is not None and response.status == status, \
        f"{path}: HTTP {response and response.status}, expected {status}"
    assert page.url.startswith(site.url(path.split("?")[0])), f"landed on {page.url}, not {path}"
    if kind.then is not None:
        kind.then(_Formatted(page, site.ids))
    assert page.evaluate("document.documentElement.lang") == LOCALES[locale]
    return page


class _Formatted:
    """The page, with `{id}` placeholders in filled-in values replaced by the site's ids."""

    def __init__(self, page, ids):
        self._page, self._ids = page, ids

    def fill(self, selector: str, value: str) -> None:
        self._page.fill(selector, value.format(**self._ids))

    def __getattr__(self, name):
        return getattr(self._page, name)
