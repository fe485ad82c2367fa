"""Certificate pages: trainee list and downloads, public verify page (single, upload, bulk CSV), admin status
changes, the DID document and status lists. `init_app` wires settings, tables, signal, CLI, API and navigation."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, abort, current_app, flash, jsonify, redirect, render_template, \
    request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from lms.config import ConfigError
from lms.core.decorators import admin_required, public
from lms.core.exceptions import UserError
from lms.extensions import csrf, db

from . import baking, operations, pdf, queries

bp = Blueprint("certificates", __name__, template_folder="templates")
MAX_BULK_IDS = 200


def _owned(credential_id: str):
    """The credential if the signed-in user owns it or is staff; 404 otherwise (never reveal others')."""
    row = queries.credential(credential_id)
    if row is None or not (current_user.is_staff or row.user_id == current_user.id):
        abort(404)
    return row


def verify_url(credential_id: str) -> str:
    return f"{queries.base_url()}/verify?{urlencode({'id': credential_id})}"


def linkedin_url(row) -> str:
    params = {"startTask": "CERTIFICATION_NAME", "name": row.title,
              "organizationName": current_app.config["CERTS_ISSUER_NAME"],
              "issueYear": row.issued_at.year, "issueMonth": row.issued_at.month,
              "certUrl": verify_url(row.id), "certId": row.id}
    if row.valid_until:
        params.update(expirationYear=row.valid_until.year, expirationMonth=row.valid_until.month)
    return "https://www.linkedin.com/profile/add?" + urlencode(params)


@bp.get("/certificates/")
@login_required
def mine():
    rows = queries.credentials_for_user(current_user.id)
    return render_template("certificates/mine.html", rows=rows, linkedin_url=linkedin_url, verify_url=verify_url,
                           languages=pdf.LANGUAGES)


@bp.get("/certificates/<credential_id>.json")
@login_required
def download_json(credential_id: str):
    row = _owned(credential_id)
    return Response(_json_bytes(row.document), mimetype="application/vc+ld+json", headers={
        "Content-Disposition": f'attachment; filename="certificate-{row.id}.json"', "Cache-Control": "private"})


@bp.get("/certificates/<credential_id>/v<int:revision>/certificate-<language>.pdf")
@login_required
def download_pdf(credential_id: str, revision: int, language: str):
    row = _owned(credential_id)
    if language not in pdf.LANGUAGES:
        abort(404)
    if revision != row.revision:  # versioned URL: an old link redirects to the current rendering
        return redirect(url_for(".download_pdf", credential_id=row.id, revision=row.revision, language=language))
    body = pdf.render(row.document, verify_url(row.id), language, row.state)
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="certificate-{row.id}-{language}.pdf"',
        "Cache-Control": "private, max-age=31536000, immutable"})


@bp.get("/certificates/<credential_id>/badge.<kind>")
@login_required
def download_badge(credential_id: str, kind: str):
    row = _owned(credential_id)
    if kind == "png":
        return Response(baking.bake_png(row.document), mimetype="image/png", headers={
            "Content-Disposition": f'attachment; filename="badge-{row.id}.png"'})
    if kind == "svg":
        return Response(baking.bake_svg(row.document), mimetype="image/svg+xml", headers={
            "Content-Disposition": f'attachment; filename="badge-{row.id}.svg"'})
    abort(404)


@bp.route("/verify", methods=["GET", "POST"])
@public
def verify_page():
    result, source = None, None
    email = (request.values.get("email") or "").strip() or None
    if request.method == "POST" and request.files.get("file"):
        upload = request.files["file"].read(512 * 1024 + 1)
        try:
            data = baking.extract(upload)
        except ValueError as error:
            data = str(error).encode()  # shown as a format failure
        result, source = operations.verify_online(data, email), "upload"
    elif request.values.get("id"):
        row = queries.credential(request.values["id"])
        if row is None:
            flash(_("No certificate with this ID was issued by us."), "error")
        else:
            result, source = operations.verify_online(row.document, email), "id"
    return render_template("certificates/verify.html", result=result, source=source, email=email or "")


@bp.post("/verify/bulk")
@public
def verify_bulk():
    upload = request.files.get("file")
    text = upload.read(64 * 1024).decode("utf-8", "replace") if upload else request.form.get("ids", "")
    ids = [cell.strip() for row in csv.reader(io.StringIO(text)) for cell in row[:1] if cell.strip()]
    ids = [i for i in ids if i.lower() not in ("id", "credential_id")][:MAX_BULK_IDS]
    rows = []
    for credential_id in ids:
        row = queries.credential(credential_id)
        rows.append((credential_id, operations.verify_online(row.document) if row else None))
    if request.form.get("format") == "csv":
        return Response(_bulk_csv(rows), mimetype="text/csv", headers={
            "Content-Disposition": 'attachment; filename="verification-results.csv"'})
    return render_template("certificates/bulk.html", rows=rows, ids="\n".join(ids))


def _bulk_csv(rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["credential_id", "verdict", "failed_checks", "achievement", "awarded_to", "valid_until"])
    for credential_id, result in rows:
        if result is None:
            writer.writerow([credential_id, "unknown", "", "", "", ""])
            continue
        doc = result.credential or {}
        subject = doc.get("credentialSubject", {})
        writer.writerow([credential_id, "valid" if result.valid else "not valid", " ".join(result.failed),
                         subject.get("achievement", {}).get("name", ""), subject.get("name", ""),
                         doc.get("validUntil", "")])
    return out.getvalue()


@bp.get("/certificates/admin")
@admin_required
def admin_list():
    return render_template("certificates/admin.html", rows=queries.all_credentials())


@bp.post("/certificates/admin/<credential_id>/<action>")
@admin_required
def admin_change(credential_id: str, action: str):
    try:
        operations.change_status(credential_id, action, request.form.get("reason", ""))
        db.session.commit()
        flash(_("Certificate status updated."), "success")
    except UserError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for(".admin_list"))


@bp.get("/.well-known/did.json")
@public
def did_json():
    response = jsonify(operations.current_did_document())
    response.mimetype = "application/did+json"
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/credentials/status/<purpose>")
@public
def status_list(purpose: str):
    if purpose not in ("revocation", "suspension"):
        abort(404)
    response = Response(_json_bytes(operations.status_list_document(purpose)), mimetype="application/vc+ld+json")
    response.headers["Cache-Control"] = f"public, max-age={current_app.config['CERTS_STATUS_MAX_AGE']}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.add_etag()
    return response.make_conditional(request)


def _json_bytes(document) -> bytes:
    import json

    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def _configure(app: Flask) -> None:
    app.config.setdefault("CERTS_KEY_DIR", str(Path(app.instance_path) / "keys"))
    app.config.setdefault("CERTS_ISSUER_NAME", "NI Academy")
    app.config.setdefault("CERTS_AUTO_KEYGEN", app.config.get("NIA_ENV") != "production")
    app.config.setdefault("CERTS_STATUS_MAX_AGE", 300)
    if not str(app.config["CERTS_ISSUER_NAME"]).strip():
        raise ConfigError("CERTS_ISSUER_NAME must not be empty")
    key_dir = Path(app.config["CERTS_KEY_DIR"]).resolve()
    database = str(app.config.get("SQLALCHEMY_DATABASE_URI", ""))
    if database.startswith("sqlite:///") and key_dir == Path(database[len("sqlite:///"):]).resolve().parent:
        raise ConfigError("CERTS_KEY_DIR must be its own directory, not the database's (keys stay out of backups "
                          "of the database)")
    if isinstance(app.config["CERTS_AUTO_KEYGEN"], str):
        app.config["CERTS_AUTO_KEYGEN"] = app.config["CERTS_AUTO_KEYGEN"].lower() in ("1", "true", "yes", "on")
    try:
        app.config["CERTS_STATUS_MAX_AGE"] = int(app.config["CERTS_STATUS_MAX_AGE"])
    except ValueError:
        raise ConfigError("CERTS_STATUS_MAX_AGE must be a whole number of seconds") from None


def init_app(app: Flask) -> None:
    from lms.core.health import register_health_check
    from lms.core.navigation import register_nav
    from lms.signals import course_completed

    from . import models  # noqa: F401 - registers the tables
    from .api import api_bp
    from .cli import certs_cli
    from .jsonld import verify_pins

    _configure(app)
    verify_pins()
    app.register_blueprint(bp)
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    app.cli.add_command(certs_cli)
    course_completed.connect(operations.on_course_completed, weak=False)
    register_health_check(app, "certificates", operations.health)
    register_nav(app, "certificates.mine", _l("Certificates"), who="user", order=60)
    register_nav(app, "certificates.verify_page", _l("Verify a certificate"), who="anonymous", order=90)
    register_nav(app, "certificates.admin_list", _l("Certificates (admin)"), who="admin", order=95)
