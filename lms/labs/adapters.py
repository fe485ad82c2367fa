"""The lab launcher's providers backed by the grading package (labs and submissions).

Registered by lms.labs.init_app when the grading package is installed (grading.web may call it too: registering
twice is a no-op). virtual_lab registers its own line provider (virtual_lab.webops.line_provider).
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from flask import Flask, url_for
from flask_babel import gettext as _

from lms.core.exceptions import UserError
from lms.extensions import db
from lms.models import User

from .providers import (LabSpec, SubmitReceipt, register_lab_spec_provider, register_results_link,
                        register_scenario_seed, register_submission_status, register_submit_handler)


class LabNotReady(UserError):
    status = 503


def register_grading_adapters(app: Flask) -> None:
    if app.extensions.get("nia.labs.grading_adapters"):
        return
    app.extensions["nia.labs.grading_adapters"] = True
    register_lab_spec_provider(app, grading_lab_spec)
    register_submit_handler(app, grading_submit)
    register_results_link(app, grading_results_link)
    register_submission_status(app, grading_submission_status)
    register_scenario_seed(app, grading_scenario_seed)


def grading_results_link(course_slug: str, lab_slug: str) -> str | None:
    """grading's own lab page lists the trainee's submissions with their scores and feedback."""
    from grading import queries

    if queries.get_lab(course_slug, lab_slug) is None:
        return None
    return url_for("grading.lab_page", course=course_slug, lab=lab_slug)


def grading_lab_spec(course_slug: str, lab_slug: str) -> LabSpec | None:
    from grading import operations, queries
    from grading.facade import BuildError

    lab = queries.get_lab(course_slug, lab_slug)
    if lab is None or lab.archived or not lab.notebooks:
        return None
    try:
        operations.ensure_built(lab)  # a no-op unless the lab changed since its last build
    except BuildError:
        raise LabNotReady(_("This lab cannot be opened yet: its release could not be built. "
                            "Your instructor has been told.")) from None
    release = operations.grader_for(course_slug).release_notebook(lab.slug, lab.notebooks[0]).parent
    files = {str(path.relative_to(release)): path.read_bytes() for path in sorted(Path(release).rglob("*"))
             if path.is_file() and ".ipynb_checkpoints" not in path.parts}
    return LabSpec(course=course_slug, lab=lab_slug, title=lab.title, files=files,
                   main_notebook=f"{lab.notebooks[0]}.ipynb", scenario=lab.scenario,
                   extra_env={"NIA_LAB": lab.key, "NIA_LAB_DURATION_S": str(lab.duration_s)},
                   seed_for=lambda user_id: queries.trainee_seed(lab, user_id))


def grading_submit(user_id: int, course_slug: str, lab_slug: str, notebook: dict, filename: str):
    from grading import operations, queries

    lab = queries.get_lab(course_slug, lab_slug)
    user = db.session.get(User, user_id)
    if lab is None or user is None:
        return None
    content = nbformat.writes(nbformat.from_dict(notebook)).encode()
    submission, _created = operations.submit(user, lab, Path(filename).name, content)
    return SubmitReceipt(submission_id=submission.id, status=submission.status,
                         url=url_for("grading.submission_page", submission_id=submission.id),
                         after_commit=lambda: operations.enqueue_pending(submission))


def grading_submission_status(user_id: int, submission_id: int) -> dict | None:
    """The caller's own submission only (even for staff): the in-lab command polls with the lab's token."""
    from grading import queries

    user = db.session.get(User, user_id)
    submission = queries.visible_submission(submission_id, user) if user is not None else None
    if submission is None or submission.user_id != user_id:
        return None
    return {**queries.status_payload(submission),
            "url": url_for("grading.submission_page", submission_id=submission.id)}


def grading_scenario_seed(user_id: int, scenario: str, launched: list[tuple[str, str]]) -> int | None:
    """grading's seed for the trainee's lab on this scenario: the most recently launched one, else the first."""
    from grading import queries

    user = db.session.get(User, user_id)
    if user is None or not scenario:
        return None
    labs = [lab for lab in queries.labs_for_user(user) if lab.scenario == scenario]
    if not labs:
        return None
    order = {key: index for index, key in enumerate(launched)}
    labs.sort(key=lambda lab: (order.get((lab.course_slug, lab.slug), len(order)), lab.course_slug, lab.slug))
    return queries.trainee_seed(labs[0], user_id)
