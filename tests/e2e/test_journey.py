"""The whole product in a real browser against the platform as `make run` starts it (tests/e2e/stack.py).

A trainee registers, enrols, reads the lesson, passes the quiz, opens the lab (spawn progress in the LMS, then
JupyterLab through SSO), runs cells that read her own live line, submits from the LMS, sees grade and feedback,
completes the course and downloads her certificate (PDF and JSON). An employer without an account verifies it
through the QR code's URL and by uploading the JSON, and sees a tampered copy rejected. An instructor (appointed
by the admin) uploads a lab's source notebook, reads the gradebook and exports it as CSV. The admin revokes the
certificate; verification then says so. Screenshots of every step: test-artifacts/e2e/.

The tests run in file order and hand their results on through the `journey` fixture.
"""
from __future__ import annotations

import csv
import json
import re
import time

import pytest
from playwright.sync_api import Error as PlaywrightError, expect

from tests.e2e import jupyterlab as lab
from tests.e2e.conftest import ADMIN, ARTIFACTS
from tests.e2e.documents import qr_decode, qr_modules, text_lines
from tests.e2e.notebooks import LIVE_LINE_CELL, SOLUTION, revised_source

pytestmark = [pytest.mark.slow, pytest.mark.bwrap]
COURSE, LAB = "line-reading", "machines-on-your-line"
TRAINEE = {"name": "Chan Tai Man", "email": "tai-man.chan@example.com", "password": "moulding line four"}
INSTRUCTOR = {"name": "Irene Instructor", "email": "irene@example.org", "password": "instructor passphrase"}
# Logs what the LMS lab page shows while the hub spawns (the page navigates away when ready, so it is recorded
# as it happens; Playwright injects this regardless of the page's Content-Security-Policy).
PROGRESS_PROBE = """window.addEventListener('DOMContentLoaded', () => {
  const box = document.getElementById('lab-launch');
  if (!box) { return; }
  const bar = document.getElementById('lab-progress'), text = document.getElementById('lab-progress-message');
  new MutationObserver(() => console.log('nia-progress ' + JSON.stringify({value: bar.value, message: text.textContent})))
    .observe(box, {subtree: true, childList: true, characterData: true});
});"""


def flash(page) -> str:
    return page.locator(".flashes").inner_text()


def log_in(page, platform, who: dict) -> None:
    page.goto(platform.lms_url + "/accounts/login")
    page.locator("#email").fill(who["email"])
    page.locator("#password").fill(who["password"])
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile("/accounts/login"))


def register(page, platform, who: dict) -> None:
    page.goto(platform.lms_url + "/")
    page.get_by_role("link", name="Register").first.click()
    page.locator("#name").fill(who["name"])
    page.locator("#email").fill(who["email"])
    page.locator("#password").fill(who["password"])
    page.locator("#confirm").fill(who["password"])
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".flashes")).to_contain_text("Your account is ready")


def test_trainee_registers_enrols_reads_the_lesson_and_passes_the_quiz(platform, people, shot):
    page = people("trainee")
    register(page, platform, TRAINEE)
    shot(page, "trainee-registered")
    page.get_by_role("link", name="Courses").first.click()
    page.get_by_role("link", name="Reading your own line").click()
    page.get_by_role("button", name="Enrol in this course").click()
    expect(page.locator(".flashes")).to_contain_text("You are enrolled")
    shot(page, "trainee-enrolled")

    page.get_by_role("link", name="Continue learning").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Where your line publishes")
    shot(page, "lesson")
    page.get_by_role("button", name="Mark as done").click()
    expect(page.locator(".flashes")).to_contain_text("Lesson marked as done")

    page.get_by_role("link", name="Reading your own line").first.click()
    page.get_by_role("link", name="Your line — check").click()
    page.get_by_role("button", name="Start the quiz").click()
    questions = page.locator("fieldset.quiz-question")  # drawn in random order: found by their prompts
    questions.filter(has_text="retained").get_by_label("meta", exact=True).check()
    questions.filter(has_text="how many seconds").get_by_role("textbox").fill("1")
    shot(page, "quiz-answered")
    page.get_by_role("button", name="Submit answers").click()
    expect(page.locator("main")).to_contain_text("Score: 2 of 2 points (100%)")
    expect(page.locator(".badge", has_text="Passed")).to_be_visible()
    shot(page, "quiz-passed")


def _wait_for_jupyterlab(page, platform, seconds: float = 120) -> None:
    """Until the LMS page hands over to JupyterLab; fails at once if the page says the lab could not start."""
    opened = re.compile(rf"^{platform.hub_url}/user/u\d+/lab-[0-9a-f]+/lab")
    deadline = time.monotonic() + seconds
    while not opened.match(page.url):
        try:
            message = page.evaluate("() => document.getElementById('lab-progress-message')?.textContent || ''")
        except PlaywrightError:  # the page is navigating (to the hub, or the hub's SSO round trip)
            message = ""
        if "could not start" in message or time.monotonic() > deadline:
            raise AssertionError(f"the lab did not open ({message!r}, at {page.url})\n{platform.logs()}")
        page.wait_for_timeout(250)


def test_trainee_opens_the_lab_and_reads_her_own_line_in_jupyterlab(platform, people, shot, hub, journey):
    page = people("trainee")
    progress: list[dict] = []
    page.on("console", lambda message: message.text.startswith("nia-progress ")
            and progress.append(json.loads(message.text.split(" ", 1)[1])))
    page.context.add_init_script(PROGRESS_PROBE)
    page.goto(f"{platform.lms_url}/courses/{COURSE}")
    # The first look at a lab builds its release (nbgrader + the sandboxed authoring check): seconds, not minutes.
    page.get_by_role("link", name="Open lab").click(timeout=120_000)
    expect(page.get_by_role("heading", level=1)).to_have_text("Machines on your line")
    page.get_by_role("button", name="Open lab").click()
    expect(page.locator("#lab-launch")).to_be_visible()
    shot(page, "lab-starting", full_page=False)

    _wait_for_jupyterlab(page, platform)
    assert progress and progress[-1]["value"] == 100, progress  # the LMS showed the spawn until it was ready
    assert any(0 < step["value"] < 100 for step in progress), f"no intermediate spawn progress shown: {progress}"
    lab.wait_until_ready(page)
    shot(page, "jupyterlab-opened", full_page=False)
    hub_user = re.search(r"/user/(u\d+)/", page.url).group(1)

    lab.replace_cell_source(page, 2, SOLUTION)
    live_cell = lab.append_code_cell(page, LIVE_LINE_CELL)
    lab.run_all(page)
    lab.show_cell(page, live_cell)
    shot(page, "jupyterlab-cells-run", full_page=False)
    assert f"messages from line {hub_user} (smoke, seed" in lab.output_of(page, 1)
    assert lab.error_outputs(page) == []  # the visible tests pass with her answer
    live = lab.output_of(page, live_cell)
    match = re.search(r"LIVE (\S+) (\d+) readings from (\[.*\])", live)
    assert match, live
    assert match.group(1) == f"nia/v1/{hub_user}", live  # her own namespace on the broker
    assert int(match.group(2)) > 0 and "'moulder'" in match.group(3), live
    lab.save(page)

    server = hub.hub_api("GET", f"/users/{hub_user}").json()["servers"]
    assert [model["ready"] for model in server.values()] == [True], hub.log_tail()
    journey["hub_user"] = hub_user


def test_trainee_submits_from_the_lms_and_sees_grade_and_feedback(platform, people, shot, journey):
    page = people("trainee")
    page.goto(f"{platform.lms_url}/launch/{COURSE}/{LAB}")
    page.get_by_role("button", name=f"Submit {LAB}.ipynb for grading").click()
    expect(page.locator(".flashes")).to_contain_text("Submitted")
    shot(page, "submitted")
    status = page.locator("[data-grading-status]")
    expect(status).to_have_text("Graded", timeout=120_000)  # the page follows the queue by itself
    result = page.locator("#grading-result")
    expect(result.get_by_role("heading", name="Result: 5 / 5")).to_be_visible()
    expect(result.locator(".badge", has_text="Passed")).to_be_visible()
    expect(result.get_by_role("cell", name="3 / 3")).to_be_visible()
    expect(result.get_by_role("heading", name="Feedback")).to_be_visible()
    expect(result.locator(".feedback")).to_contain_text(f"messages from line {journey['hub_user']}")
    shot(page, "graded-with-feedback")


def test_trainee_completes_the_course_and_downloads_her_certificate(platform, people, shot, journey):
    page = people("trainee")
    page.goto(f"{platform.lms_url}/courses/{COURSE}")
    expect(page.get_by_text("1 of 1 lessons done · 1 of 1 quizzes passed · 1 of 1 labs passed")).to_be_visible()
    shot(page, "course-completed")
    page.goto(f"{platform.lms_url}/certificates/")
    card = page.locator("article.certificate", has_text="Line Data Reader")
    expect(card).to_contain_text("Active")
    shot(page, "my-certificates")
    credential_id = card.get_attribute("data-id")

    with page.expect_download() as download:
        card.get_by_role("link", name="Verifiable credential (JSON)").click()
    json_path = ARTIFACTS / "certificate.json"
    download.value.save_as(json_path)
    document = json.loads(json_path.read_text())
    assert document["id"] == f"urn:uuid:{credential_id}"
    assert document["credentialSubject"]["name"] == TRAINEE["name"]
    assert document["credentialSubject"]["achievement"]["name"] == "Line Data Reader"

    pdf_link = card.get_by_role("link", name="PDF certificate (English)")
    pdf = page.context.request.get(platform.lms_url + pdf_link.get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    (ARTIFACTS / "certificate-en.pdf").write_bytes(pdf.body())
    pdf_link.click()  # Chromium's own PDF viewer shows what she would print
    page.wait_for_timeout(1500)
    shot(page, "certificate-pdf", full_page=False)
    lines = text_lines(pdf.body())
    assert TRAINEE["name"] in lines and "Line Data Reader" in lines, lines
    printed = next(line for line in lines if line.startswith("Verify at: "))[len("Verify at: "):]
    scanned = qr_decode(qr_modules(pdf.body()))
    assert scanned == printed == f"{platform.lms_url}/verify?id={credential_id}"
    journey.update(credential_id=credential_id, qr_url=scanned, credential=document)


def _verify_upload(page, platform, name: str, content: bytes):
    page.goto(platform.lms_url + "/verify")
    page.locator("#verify-file").set_input_files(files=[{"name": name, "mimeType": "application/json",
                                                         "buffer": content}])
    page.get_by_role("button", name="Upload and verify").click()
    return page.locator("section.verify-result")


def test_employer_verifies_through_the_qr_code_and_the_file_and_spots_a_forgery(platform, people, shot, journey):
    page = people("employer")  # no account, never logged in
    page.goto(journey["qr_url"])
    result = page.locator("section.verify-result")
    expect(result).to_have_class(re.compile(r"\bvalid\b"))
    expect(result.get_by_role("heading", level=2)).to_have_text("Valid certificate")
    expect(result).to_contain_text(TRAINEE["name"])
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    shot(page, "employer-qr-valid")

    original = json.dumps(journey["credential"]).encode()
    result = _verify_upload(page, platform, "certificate.json", original)
    expect(result.get_by_role("heading", level=2)).to_have_text("Valid certificate")
    shot(page, "employer-upload-valid")

    forged = json.loads(original)
    forged["credentialSubject"]["name"] = "Someone Else"
    result = _verify_upload(page, platform, "certificate-edited.json", json.dumps(forged).encode())
    expect(result).to_have_class(re.compile(r"\binvalid\b"))
    expect(result.get_by_role("heading", level=2)).to_have_text("Not valid")
    expect(result.locator("tr[data-check='proof']")).to_contain_text("Failed")
    shot(page, "employer-upload-tampered-invalid")


def test_instructor_uploads_a_lab_reads_the_gradebook_and_exports_csv(platform, people, shot, tmp_path):
    instructor = people("instructor")
    register(instructor, platform, INSTRUCTOR)
    admin = people("admin")
    log_in(admin, platform, ADMIN)
    admin.goto(platform.lms_url + "/admin/users?q=irene")
    admin.get_by_label(f"Role of {INSTRUCTOR['email']}").select_option("instructor")
    admin.get_by_role("button", name=f"Change role of {INSTRUCTOR['email']}").click()
    expect(admin.get_by_label(f"Role of {INSTRUCTOR['email']}")).to_have_value("instructor")
    shot(admin, "admin-appoints-instructor")

    instructor.goto(platform.lms_url + "/labs/")
    instructor.get_by_role("link", name="Machines on your line").click()
    instructor.get_by_role("link", name="Upload source notebook").click()
    broken = tmp_path / f"{LAB}.ipynb"
    broken.write_bytes(revised_source(break_solution=True))
    instructor.locator("#notebook").set_input_files(str(broken))
    instructor.get_by_role("button", name="Check and upload").click()
    refusal = instructor.locator(".flashes")
    expect(refusal).to_contain_text("Rejected", timeout=120_000)
    expect(refusal).to_contain_text("'test-peak' scores 0/3 with the solution (expected full marks)")
    shot(instructor, "instructor-upload-refused")
    revised = tmp_path / "revised" / f"{LAB}.ipynb"
    revised.parent.mkdir()
    revised.write_bytes(revised_source())
    instructor.locator("#notebook").set_input_files(str(revised))
    instructor.get_by_role("button", name="Check and upload").click()
    expect(instructor.locator(".flashes")).to_contain_text("Accepted: the solution scores 5/5", timeout=120_000)
    shot(instructor, "instructor-upload-accepted")
    release = instructor.context.request.get(f"{platform.lms_url}/labs/{COURSE}/{LAB}/notebook/{LAB}.ipynb")
    assert release.status == 200 and "Revised by the instructor" in release.text()
    assert "BEGIN SOLUTION" not in release.text()  # trainees get the release, never the solution

    instructor.goto(platform.lms_url + "/instructor/")
    instructor.get_by_role("link", name=re.compile("Open gradebook")).click()
    row = instructor.locator("tr", has_text=TRAINEE["email"])
    expect(row).to_contain_text("completed")
    expect(row).to_contain_text("100%")
    expect(row.locator("td").last).to_have_text("5.0")
    shot(instructor, "instructor-gradebook")
    with instructor.expect_download() as download:
        instructor.get_by_role("link", name="Download CSV").click()
    csv_path = ARTIFACTS / "gradebook.csv"
    download.value.save_as(csv_path)
    rows = list(csv.DictReader(csv_path.read_text(encoding="utf-8-sig").splitlines()))
    mine = [r for r in rows if TRAINEE["email"] in r.values()]
    assert len(mine) == 1 and "completed" in mine[0].values() and "5.0" in mine[0].values(), rows


def _expect_revoked(result) -> None:
    """Not valid, for that reason alone: the signature still holds, the revocation check fails."""
    expect(result.get_by_role("heading", level=2)).to_have_text("Not valid")
    expect(result.locator("tr[data-check='proof']")).to_contain_text("Passed")
    expect(result.locator("tr[data-check='status']")).to_contain_text("Failed")
    expect(result.locator("tr[data-check='status']")).to_contain_text("revoked this certificate")


def test_admin_revokes_the_certificate_and_verification_says_revoked(platform, people, shot, journey):
    admin = people("admin")
    admin.goto(platform.lms_url + "/certificates/admin")
    row = admin.locator(f"tr[data-id='{journey['credential_id']}']")
    row.get_by_placeholder("Reason").first.fill("Issued in error: the trainee's lab was shared by a colleague")
    row.get_by_role("button", name="Revoke").click()
    expect(admin.locator(f"tr[data-id='{journey['credential_id']}']")).to_contain_text("Revoked")
    shot(admin, "admin-revoked")

    employer = people("employer")
    employer.goto(journey["qr_url"])
    _expect_revoked(employer.locator("section.verify-result"))
    shot(employer, "employer-qr-revoked")
    _expect_revoked(_verify_upload(employer, platform, "certificate.json", json.dumps(journey["credential"]).encode()))
    shot(employer, "employer-upload-revoked")

    trainee = people("trainee")
    trainee.goto(platform.lms_url + "/certificates/")
    expect(trainee.locator("article.certificate", has_text="Line Data Reader")).to_contain_text("Revoked")
    shot(trainee, "trainee-sees-revoked")
