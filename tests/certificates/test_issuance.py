"""Issuance on completion, keys (keygen, permissions, rotation) and the offline verifier."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lms.extensions import db

ROOT = Path(__file__).resolve().parents[2]


def test_completion_signal_issues_open_badge(app, make_user, make_course, complete_course, credential_doc):
    user = make_user(email="Learner@Example.test", name="Lee Ka Yan")
    course_id = make_course(recertify_months=12)
    cid = complete_course(user.id, course_id)
    doc = credential_doc(cid)
    assert doc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert doc["issuer"]["id"] == "did:web:127.0.0.1%3A8470" and doc["issuer"]["type"] == ["Profile"]
    subject = doc["credentialSubject"]
    assert subject["name"] == "Lee Ka Yan" and "learner@example.test" not in json.dumps(doc).lower()
    assert subject["identifier"][0]["identityHash"].startswith("sha256$")
    achievement = subject["achievement"]
    assert achievement["criteria"]["narrative"] and achievement["alignment"][0]["targetCode"] == "NI-PLC-3"
    assert [e["name"] for e in doc["evidence"]] == ["PLC ladder logic lab", "Line safety quiz"]
    valid_from = datetime.fromisoformat(doc["validFrom"].replace("Z", "+00:00"))
    valid_until = datetime.fromisoformat(doc["validUntil"].replace("Z", "+00:00"))
    assert 360 <= (valid_until - valid_from).days <= 366
    indexes = [int(e["statusListIndex"]) for e in doc["credentialStatus"]]
    assert {e["statusPurpose"] for e in doc["credentialStatus"]} == {"revocation", "suspension"}
    assert all(0 <= i < 131072 for i in indexes)
    assert doc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"


def test_no_validuntil_without_recertification(make_user, make_course, complete_course, credential_doc):
    user = make_user()
    assert "validUntil" not in credential_doc(complete_course(user.id, make_course(recertify_months=None)))


def test_second_completion_keeps_the_active_credential(make_user, make_course, complete_course):
    user = make_user()
    course_id = make_course()
    assert complete_course(user.id, course_id) == complete_course(user.id, course_id)


def test_renewal_after_expiry_issues_a_new_credential(app, client, make_user, make_course, complete_course):
    from certificates.operations import issue_credential

    user = make_user()
    course_id = make_course(recertify_months=1)
    with app.app_context(), app.test_request_context():
        old = issue_credential(user.id, course_id, [], now=datetime.now(timezone.utc) - timedelta(days=60))
        db.session.commit()
        old_id = old.id
    new_id = complete_course(user.id, course_id)
    assert new_id != old_id
    assert client.get(f"/api/v1/credentials/{new_id}/verify").get_json()["valid"]
    assert client.get(f"/api/v1/credentials/{old_id}/verify").get_json()["failed"] == ["dates"]


def test_keygen_writes_private_key_file_0600_and_refuses_twice(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["certs", "keygen"])
    assert result.exit_code == 0, result.output
    key_dir = Path(app.config["CERTS_KEY_DIR"])
    name = result.output.split("created key ")[1].split()[0]
    path = key_dir / f"{name}.pem"
    assert path.stat().st_mode & 0o777 == 0o600 and key_dir.stat().st_mode & 0o777 == 0o700
    again = runner.invoke(args=["certs", "keygen"])
    assert again.exit_code != 0 and "rotate" in again.output


def test_world_readable_key_is_refused(app, make_user, make_course):
    from certificates.keys import KeyError_, active_key
    from certificates.operations import issue_credential

    assert app.test_cli_runner().invoke(args=["certs", "keygen"]).exit_code == 0
    with app.app_context():
        path = Path(app.config["CERTS_KEY_DIR"]) / active_key().file_name
    user, course_id = make_user(), make_course()
    path.chmod(0o644)
    try:
        with app.app_context(), app.test_request_context(), pytest.raises(KeyError_, match="chmod 600"):
            from certificates import keys
            keys._cache.clear()
            issue_credential(user.id, course_id, [])
    finally:
        path.chmod(0o600)


def test_rotation_keeps_old_credentials_valid(app, client, make_user, make_course, complete_course,
                                              credential_doc):
    user = make_user()
    old_id = complete_course(user.id, make_course())
    old_key = credential_doc(old_id)["proof"]["verificationMethod"]
    result = app.test_cli_runner().invoke(args=["certs", "rotate"])
    assert result.exit_code == 0 and "retired" in result.output
    with app.app_context():
        from lms.models import AuditEvent
        assert AuditEvent.query.filter_by(action="certificate.key_rotated").count() == 1
    new_id = complete_course(user.id, make_course(title="Industrial IoT"))
    new_key = credential_doc(new_id)["proof"]["verificationMethod"]
    assert new_key != old_key
    did = client.get("/.well-known/did.json").get_json()
    assert {old_key, new_key} <= set(did["assertionMethod"])
    for cid in (old_id, new_id):
        assert client.get(f"/api/v1/credentials/{cid}/verify").get_json()["valid"]


def test_cli_issue_and_revoke(app, client, make_user, make_course):
    from lms.models import Course

    user = make_user(email="cli@example.test")
    course_id = make_course()
    with app.app_context():
        slug = db.session.get(Course, course_id).slug
    runner = app.test_cli_runner()
    issued = runner.invoke(args=["certs", "issue", "cli@example.test", slug])
    assert issued.exit_code == 0, issued.output
    cid = issued.output.split("urn:uuid:")[1].split()[0]
    revoked = runner.invoke(args=["certs", "revoke", cid, "--reason", "issued in error"])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert client.get(f"/api/v1/credentials/{cid}/verify").get_json()["failed"] == ["status"]


def _offline(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "certificates", "verify", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)


def test_offline_verifier(app, client, tmp_path, make_user, make_course, complete_course, credential_doc):
    user = make_user(email="offline@example.test")
    cid = complete_course(user.id, make_course())
    credential = tmp_path / "credential.json"
    credential.write_text(json.dumps(credential_doc(cid)))
    did = tmp_path / "did.json"
    did.write_bytes(client.get("/.well-known/did.json").get_data())
    lists = []
    for purpose in ("revocation", "suspension"):
        path = tmp_path / f"{purpose}.json"
        path.write_bytes(client.get(f"/credentials/status/{purpose}").get_data())
        lists += ["--status-list", str(path)]

    ok = _offline(str(credential), "--did-document", str(did), *lists, "--email", "offline@example.test")
    assert ok.returncode == 0 and "VALID" in ok.stdout, ok.stdout + ok.stderr
    no_lists = _offline(str(credential), "--did-document", str(did))
    assert no_lists.returncode == 0 and "not checked" in no_lists.stdout
    no_did = _offline(str(credential))
    assert no_did.returncode == 1 and "issuer" in no_did.stdout

    tampered = json.loads(credential.read_text())
    tampered["credentialSubject"]["name"] = "Mallory"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(tampered))
    forged = _offline(str(bad), "--did-document", str(did), *lists)
    assert forged.returncode == 1 and "failed: proof" in forged.stdout
    truncated = tmp_path / "trunc.json"
    truncated.write_text(credential.read_text()[:100])
    assert "failed: format" in _offline(str(truncated), "--did-document", str(did)).stdout

    with app.app_context(), app.test_request_context():
        from certificates.operations import change_status
        change_status(cid, "revoke", "test")
        db.session.commit()
    for purpose in ("revocation", "suspension"):
        (tmp_path / f"{purpose}.json").write_bytes(client.get(f"/credentials/status/{purpose}").get_data())
    revoked = _offline(str(credential), "--did-document", str(did), *lists)
    assert revoked.returncode == 1 and "failed: status" in revoked.stdout


def test_retired_key_is_dropped_once_its_credentials_expired(app, client, make_user, make_course):
    from certificates.operations import issue_credential

    user = make_user()
    with app.app_context(), app.test_request_context():
        old = issue_credential(user.id, make_course(recertify_months=1), [],
                               now=datetime.now(timezone.utc) - timedelta(days=90))
        db.session.commit()
        old_key = old.document["proof"]["verificationMethod"]
    assert old_key in client.get("/.well-known/did.json").get_json()["assertionMethod"]
    assert app.test_cli_runner().invoke(args=["certs", "rotate"]).exit_code == 0
    published = client.get("/.well-known/did.json").get_json()["assertionMethod"]
    assert old_key not in published and len(published) == 1
    # status lists are re-signed with the active key after rotation
    listing = client.get("/credentials/status/revocation").get_json()
    assert listing["proof"]["verificationMethod"] == published[0]


def test_missing_key_in_production_does_not_break_completion(app, client, make_user, make_course):
    from certificates.models import IssuedCredential
    from lms.models import AuditEvent
    from lms.signals import course_completed

    user, course_id = make_user(), make_course()
    app.config["CERTS_AUTO_KEYGEN"] = False
    try:
        health = client.get("/healthz").get_json()["components"]["certificates"]
        assert health["status"] == "degraded" and "certs keygen" in health["detail"]
        with app.app_context(), app.test_request_context():
            course_completed.send(app, user_id=user.id, course_id=course_id, evidence=[])
            db.session.commit()
            assert IssuedCredential.query.count() == 0
            assert AuditEvent.query.filter_by(action="certificate.issue_failed").count() == 1
    finally:
        app.config["CERTS_AUTO_KEYGEN"] = True
    assert client.get("/healthz").get_json()["components"]["certificates"]["status"] == "ok"


def test_lms_progress_signal_leads_to_a_credential(app, client, make_user, make_course):
    """The whole chain through public signals: progress_changed -> LMS completion -> course_completed -> issue."""
    pytest.importorskip("lms.learning.completion")
    from certificates.models import IssuedCredential
    from lms.models import Enrolment
    from lms.signals import progress_changed

    user, course_id = make_user(), make_course()
    with app.app_context(), app.test_request_context():
        db.session.add(Enrolment(user_id=user.id, course_id=course_id))
        db.session.commit()
        progress_changed.send(app, user_id=user.id, course_id=course_id)
        db.session.commit()
        row = IssuedCredential.query.filter_by(user_id=user.id).one()
        cid = row.id
        assert db.session.query(Enrolment).one().status == "completed"
    assert client.get(f"/api/v1/credentials/{cid}/verify").get_json()["valid"]


def test_settings_are_validated(tmp_path):
    from lms import create_app
    from lms.config import ConfigError

    base = {"NIA_ENV": "testing", "SECRET_KEY": "x" * 32, "INSTANCE_DIR": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/db.sqlite"}
    with pytest.raises(ConfigError, match="CERTS_KEY_DIR"):
        create_app({**base, "CERTS_KEY_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match="CERTS_STATUS_MAX_AGE"):
        create_app({**base, "CERTS_STATUS_MAX_AGE": "soon"})
    app = create_app(base)
    assert app.config["CERTS_KEY_DIR"] == str(tmp_path / "keys") and app.config["CERTS_AUTO_KEYGEN"] is True
