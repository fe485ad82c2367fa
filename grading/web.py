"""LMS pages for labs: submit, live status, results and feedback, instructor gradebook, regrade, override."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from flask import (Blueprint, Flask, Response, abort, current_app, flash, jsonify, redirect, render_template,
                   request, send_file, url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.core.decorators import instructor_required, trainee_required
from lms.core.exceptions import UserError
from lms.extensions import db

from . import operations, queries
from .facade import BuildError
from .forms import OverrideForm, SourceUploadForm, SubmitForm
from .models import Grade

bp = Blueprint("grading", __name__, url_prefix="/labs", template_folder="templates", static_folder="static",
               static_url_path="/static")


def init_app(app: Flask) -> None:
    from lms import signals
    from lms.core.health import register_health_check
    from lms.core.navigation import register_nav
    from lms.core.progress_stamp import track as track_progress
    from lms.core.registry import register_completion_source, register_content_fingerprint, register_gradebook_columns

    from . import models  # noqa: F401 - registers the tables for create_all
    from .cli import labs_cli
    from .settings import configure

    configure(app)
    app.register_blueprint(bp)
    app.cli.add_command(labs_cli)
    register_nav(app, "grading.index", _l("Labs"), who="user", order=40)
    register_completion_source(app, queries.completion_evidence)
    register_content_fingerprint(app, *queries.lab_fingerprint())
    track_progress(models.Submission)
    track_progress(models.Grade, owner=lambda grade: grade.submission.user_id if grade.submission else None)
    register_gradebook_columns(app, queries.gradebook_columns)
    register_health_check(app, "grading", _health)
    signals.course_imported.connect(_on_course_imported)
    _register_lab_launcher(app)
    if not app.config["TESTING"]:
        _warn_if_unsafe(app)


def _register_lab_launcher(app: Flask) -> None:
    """Lets the JupyterHub lab launcher (lms.labs) stage our release notebooks and submit to our queue."""
    try:
        from lms.labs.adapters import register_grading_adapters
    except ImportError:
        return
    register_grading_adapters(app)


def _warn_if_unsafe(app: Flask) -> None:
    from .sandbox import status

    state = status(app.config["GRADING_ALLOW_UNSAFE"])
    if state["status"] == "down":
        app.logger.critical("GRADING REFUSED: %s", state["error"])
    elif state["status"] == "degraded":
        app.logger.critical("%s", state["warning"])


def _on_course_imported(sender, course_dir=None, course=None, session=None, **_kw) -> None:
    operations.import_course_labs(Path(course_dir), course, session)


def _health() -> dict:
    from .queue import describe
    from .sandbox import status

    app = current_app._get_current_object()
    state = status(app.config["GRADING_ALLOW_UNSAFE"])
    return {**state, **describe(app), "jobs": queries.counts()}


def _lab_or_404(course: str, lab: str):
    found = queries.get_lab(course, lab)
    if found is None or not queries.can_view_lab(current_user, found):
        abort(404)
    return found


@bp.get("/")
@trainee_required
def index():
    return render_template("grading/index.html", labs=queries.labs_for_user(current_user))


@bp.get("/<course>/<lab>")
@trainee_required
def lab_page(course: str, lab: str):
    found = _lab_or_404(course, lab)
    submissions = queries.user_submissions(found, current_user.id)
    files = operations.grader_for(found.course_slug).release_files(found.slug)
    return render_template("grading/lab.html", lab=found, form=SubmitForm(), submissions=submissions, files=files,
                           seed=queries.trainee_seed(found, current_user.id), pass_points=queries.pass_points(found),
                           can_submit=queries.can_submit(current_user, found), queries=queries)


@bp.get("/<course>/<lab>/notebook/<name>.ipynb")
@trainee_required
def release_notebook(course: str, lab: str, name: str):
    found = _lab_or_404(course, lab)
    if name not in found.notebooks:
        abort(404)
    path = operations.grader_for(found.course_slug).release_notebook(found.slug, name)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="application/x-ipynb+json", as_attachment=True, download_name=f"{name}.ipynb")


@bp.get("/<course>/<lab>/files/<path:name>")
@trainee_required
def release_file(course: str, lab: str, name: str):
    found = _lab_or_404(course, lab)
    if name not in operations.grader_for(found.course_slug).release_files(found.slug):
        abort(404)
    path = operations.grader_for(found.course_slug).root / "release" / found.slug / name
    return send_file(path, as_attachment=True, download_name=Path(name).name)


@bp.post("/<course>/<lab>/submit")
@trainee_required
def submit(course: str, lab: str):
    found = _lab_or_404(course, lab)
    form = SubmitForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for(".lab_page", course=course, lab=lab))
    upload = form.notebook.data
    content = upload.stream.read(current_app.config["GRADING_MAX_UPLOAD_BYTES"] + 1)
    try:
        submission, created = operations.submit(current_user, found, upload.filename, content)
        db.session.commit()
    except UserError as error:
        db.session.rollback()
        if error.status == 403:
            abort(403)
        flash(error.message, "error")
        return redirect(url_for(".lab_page", course=course, lab=lab))
    operations.enqueue_pending(submission)
    if not created:
        flash(_("You already submitted exactly this notebook; it is not graded twice."), "info")
    return redirect(url_for(".submission_page", submission_id=submission.id))


def _submission_or_404(submission_id: int):
    submission = queries.visible_submission(submission_id, current_user)
    if submission is None:
        abort(404)
    return submission


@bp.get("/submissions/<int:submission_id>")
@trainee_required
def submission_page(submission_id: int):
    submission = _submission_or_404(submission_id)
    grade = queries.latest_grade(submission)
    return render_template("grading/submission.html", submission=submission, lab=submission.lab, grade=grade,
                           status=queries.status_payload(submission), override_form=OverrideForm(),
                           pass_points=queries.pass_points(submission.lab))


@bp.get("/submissions/<int:submission_id>/status")
@trainee_required
def submission_status(submission_id: int):
    return jsonify(queries.status_payload(_submission_or_404(submission_id)))


@bp.get("/submissions/<int:submission_id>/result")
@trainee_required
def submission_result(submission_id: int):
    """HTML fragment inserted by grading.js when the job finishes (no page reload)."""
    submission = _submission_or_404(submission_id)
    return render_template("grading/_result.html", submission=submission, lab=submission.lab,
                           grade=queries.latest_grade(submission), status=queries.status_payload(submission),
                           pass_points=queries.pass_points(submission.lab))


@bp.post("/submissions/<int:submission_id>/regrade")
@instructor_required
def regrade(submission_id: int):
    submission = _submission_or_404(submission_id)
    operations.regrade(submission, current_user)
    db.session.commit()
    operations.enqueue_pending(submission)
    flash(_("Regrade queued."), "success")
    return redirect(url_for(".submission_page", submission_id=submission_id))


@bp.post("/submissions/<int:submission_id>/override")
@instructor_required
def override(submission_id: int):
    submission = _submission_or_404(submission_id)
    grade: Grade | None = queries.latest_grade(submission)
    form = OverrideForm()
    if grade is None or not form.validate_on_submit():
        flash(_("Enter a score and a reason."), "error")
        return redirect(url_for(".submission_page", submission_id=submission_id))
    try:
        operations.override(grade, float(form.score.data), form.reason.data, current_user)
        db.session.commit()
    except UserError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("Score overridden."), "success")
    return redirect(url_for(".submission_page", submission_id=submission_id))


@bp.get("/<course>/gradebook")
@instructor_required
def gradebook(course: str):
    labs, users, grades = queries.gradebook(course)
    if not labs:
        abort(404)
    if request.args.get("format") == "csv":
        return _gradebook_csv(course, labs, users, grades)
    return render_template("grading/gradebook.html", course=course, labs=labs, users=users, grades=grades,
                           pass_points=queries.pass_points)


def _gradebook_csv(course, labs, users, grades) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "name"] + [f"{lab.slug} (/{lab.points:g})" for lab in labs])
    for user in users:
        row = [user.email, user.name]
        for lab in labs:
            grade = grades.get((lab.id, user.id))
            row.append("" if grade is None else f"{grade.score:g}")
        writer.writerow([_csv_safe(v) for v in row])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{course}-labs.csv"'})


def _csv_safe(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@") and not value.replace(".", "").lstrip("-").isdigit() \
        else value


@bp.route("/<course>/<lab>/source", methods=["GET", "POST"])
@instructor_required
def source(course: str, lab: str):
    found = _lab_or_404(course, lab)
    form = SourceUploadForm()
    if form.validate_on_submit():
        upload = form.notebook.data
        try:
            outcome = operations.upload_source(found, upload.filename, upload.stream.read(), current_user)
            db.session.commit()
            flash(_("Accepted: the solution scores %(points)s/%(points)s and the blank release scores 0.",
                    points=f"{outcome['points']:g}"), "success")
            return redirect(url_for(".source", course=course, lab=lab))
        except (UserError, BuildError) as error:
            db.session.rollback()
            flash(_("Rejected: %(error)s", error=getattr(error, "message", str(error))), "error")
            return render_template("grading/source.html", lab=found, form=form), 422
    return render_template("grading/source.html", lab=found, form=form)
