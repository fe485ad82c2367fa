"""The launcher's grading adapters against the real grading package (sample lab imported and built)."""
from __future__ import annotations

import pytest

from lms.extensions import db
from tests.fixtures.grading import COURSE_SLUG, LAB_SLUG, release_notebook
from tests.fixtures.oidc import build_lab_app, dispose


@pytest.fixture(scope="module")
def app(app_config):
    application = build_lab_app(app_config)  # lms.labs.init_app wires the grading adapters itself
    yield application
    dispose(application)


def test_grading_adapters_are_wired_once(app):
    from lms.labs.adapters import grading_lab_spec, grading_submit, register_grading_adapters

    register_grading_adapters(app)  # grading.web may call it too: never registered twice
    assert app.extensions["nia.lab_spec_providers"].count(grading_lab_spec) == 1
    assert app.extensions["nia.lab_submit_handlers"].count(grading_submit) == 1
    assert len(app.extensions["nia.lab_results_links"]) == 1


def test_imported_lab_has_a_launch_page(app, grading_lab, grading_trainee, login, client):
    from flask import url_for

    with app.test_request_context():
        url = url_for("labs.lab_page", course=COURSE_SLUG, lab=LAB_SLUG)
    assert url == f"/launch/{COURSE_SLUG}/{LAB_SLUG}"
    login(grading_trainee)
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "OEE on your own shift" in html
    assert f'href="/labs/{COURSE_SLUG}/{LAB_SLUG}"' in html  # grading's page: submissions, grades, feedback
    assert client.get(f"/launch/{COURSE_SLUG}/no-such-lab").status_code == 404


def test_imported_lab_refuses_trainees_of_other_courses(grading_lab, make_user, login, client):
    login(make_user(role="trainee"))
    assert client.get(f"/launch/{COURSE_SLUG}/{LAB_SLUG}").status_code == 403


def test_grading_lab_becomes_a_launch_spec_with_gradings_seed(app, grading_lab, grading_trainee, client):
    from grading import queries
    from grading.models import Lab
    from lms.labs.models import LabServer
    from lms.labs.providers import lab_spec
    from lms.labs.queries import server_name

    with app.app_context():
        lab = db.session.get(Lab, grading_lab)
        spec = lab_spec(COURSE_SLUG, LAB_SLUG)
        assert spec.main_notebook == f"{LAB_SLUG}.ipynb" and spec.main_notebook in spec.files
        assert spec.scenario == lab.scenario
        expected_seed, key = queries.trainee_seed(lab, grading_trainee.id), lab.key
        db.session.add(LabServer(user_id=grading_trainee.id, course_slug=COURSE_SLUG, lab_slug=LAB_SLUG,
                                 server_name=server_name(COURSE_SLUG, LAB_SLUG)))
        db.session.commit()
    body = client.get("/launch/_hub/spec", query_string={"user": f"u{grading_trainee.id}",
                                                          "server": server_name(COURSE_SLUG, LAB_SLUG)},
                      headers={"Authorization": f"Bearer {app.config['HUB_SPEC_SECRET']}"}).get_json()
    env = body["environment"]
    assert env["LAB_SEED"] == env["NIA_LAB_SEED"] == str(expected_seed)
    assert env["NIA_LAB"] == key and body["default_url"] == f"/lab/tree/{LAB_SLUG}.ipynb"


def test_grading_submit_adapter_queues_a_submission(app, grading_lab, grading_trainee):
    from grading.models import Submission
    from lms.labs.providers import submit_notebook

    notebook = release_notebook(app)
    with app.test_request_context():
        receipt = submit_notebook(grading_trainee.id, COURSE_SLUG, LAB_SLUG, notebook, f"{LAB_SLUG}.ipynb")
        db.session.commit()
        assert receipt.status in ("queued", "failed") and receipt.url.endswith(f"/{receipt.submission_id}")
        stored = db.session.get(Submission, receipt.submission_id)
        assert stored.user_id == grading_trainee.id and stored.filename == f"{LAB_SLUG}.ipynb"
