"""Trainee downloads, employer verification without an account, admin status changes over HTTP."""
from __future__ import annotations

import io
import json

import pytest

from certificates.baking import extract
from lms.models import AuditEvent


@pytest.fixture
def owner_cert(make_user, make_course, complete_course):
    owner = make_user(email="owner@example.test", name="Wong Siu Ming")
    return owner, complete_course(owner.id, make_course())


def test_trainee_page_lists_certificate_with_downloads(client, login, owner_cert):
    owner, cid = owner_cert
    login(owner)
    page = client.get("/certificates/").get_data(as_text=True)
    assert cid in page and "linkedin.com/profile/add" in page and "certificate-zh_Hant.pdf" in page
    assert "/v1/certificate-en.pdf" in page  # versioned URL


@pytest.mark.parametrize("language", ["en", "zh_Hant", "zh_Hans"])
def test_owner_downloads_pdf_in_each_language(client, login, owner_cert, language):
    owner, cid = owner_cert
    login(owner)
    response = client.get(f"/certificates/{cid}/v1/certificate-{language}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    body = response.get_data()
    assert body.startswith(b"%PDF")
    if language != "en":
        assert (b"MSung-Light" if language == "zh_Hant" else b"STSong-Light") in body


def test_json_and_baked_badges_download_and_verify(client, login, owner_cert):
    owner, cid = owner_cert
    login(owner)
    document = client.get(f"/certificates/{cid}.json")
    assert document.status_code == 200 and json.loads(document.get_data())["id"] == f"urn:uuid:{cid}"
    for kind in ("png", "svg"):
        badge = client.get(f"/certificates/{cid}/badge.{kind}")
        assert badge.status_code == 200
        assert json.loads(extract(badge.get_data()))["id"] == f"urn:uuid:{cid}"
        result = client.post("/api/v1/verify", data=extract(badge.get_data()),
                             content_type="application/json").get_json()
        assert result["valid"]


def test_only_owner_or_staff_can_download(client, login, make_user, owner_cert):
    _owner, cid = owner_cert
    anonymous = client.get(f"/certificates/{cid}/v1/certificate-en.pdf")
    assert anonymous.status_code == 302 and "/accounts/login" in anonymous.headers["Location"]
    other = make_user()
    login(other)
    for url in (f"/certificates/{cid}/v1/certificate-en.pdf", f"/certificates/{cid}.json",
                f"/certificates/{cid}/badge.png"):
        assert client.get(url).status_code == 404
    assert cid not in client.get("/certificates/").get_data(as_text=True)


def test_staff_can_download(client, login, make_user, owner_cert):
    _owner, cid = owner_cert
    login(make_user(role="instructor"))
    assert client.get(f"/certificates/{cid}/v1/certificate-en.pdf").status_code == 200


def test_employer_verifies_by_id_without_account(client, owner_cert):
    _owner, cid = owner_cert
    page = client.get(f"/verify?id={cid}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Valid certificate" in text
    assert "Wong Siu Ming" in text and "PLC ladder logic lab" in text and "18 / 20" in text
    for check in ("format", "proof", "issuer", "status", "dates"):
        assert f'data-check="{check}"' in text
    assert "No certificate with this ID" in client.get("/verify?id=nope").get_data(as_text=True)


def test_verify_page_in_chinese(client, owner_cert):
    _owner, cid = owner_cert
    response = client.get(f"/verify?id={cid}", headers={"Accept-Language": "zh-HK"})
    assert response.status_code == 200 and 'lang="zh-Hant-HK"' in response.get_data(as_text=True)


def test_employer_uploads_files(client, csrf_token, login, owner_cert):
    owner, cid = owner_cert
    login(owner)
    png = client.get(f"/certificates/{cid}/badge.png").get_data()
    client.post("/accounts/logout", data={"csrf_token": csrf_token("/certificates/")})
    token = csrf_token("/verify")
    ok = client.post("/verify", data={"csrf_token": token, "file": (io.BytesIO(png), "badge.png")},
                     content_type="multipart/form-data")
    assert ok.status_code == 200 and "Valid certificate" in ok.get_data(as_text=True)
    for bad in (png[: len(png) // 2], b'{"@context": [', b"<svg xmlns='http://www.w3.org/2000/svg'></svg>"):
        response = client.post("/verify", data={"csrf_token": token, "file": (io.BytesIO(bad), "x.json")},
                               content_type="multipart/form-data")
        text = response.get_data(as_text=True)
        assert response.status_code == 200 and "Not valid" in text and 'class="check-failed" data-check="format"' in text


def test_bulk_csv_verification(client, csrf_token, owner_cert):
    _owner, cid = owner_cert
    csv_body = f"credential_id\n{cid}\n00000000-0000-0000-0000-000000000000\n".encode()
    response = client.post("/verify/bulk", data={"csrf_token": csrf_token("/verify"),
                                                  "file": (io.BytesIO(csv_body), "ids.csv")},
                           content_type="multipart/form-data")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Valid" in text and "Unknown: not issued by us" in text


def test_did_document_and_status_lists_served_with_cache_headers(client, owner_cert):
    did = client.get("/.well-known/did.json")
    assert did.status_code == 200 and did.get_json()["id"] == "did:web:127.0.0.1%3A8470"
    assert did.get_json()["assertionMethod"]
    for purpose in ("revocation", "suspension"):
        response = client.get(f"/credentials/status/{purpose}")
        assert response.status_code == 200 and "max-age=" in response.headers["Cache-Control"]
        listing = json.loads(response.get_data())
        assert listing["credentialSubject"]["statusPurpose"] == purpose and listing["proof"]
        again = client.get(f"/credentials/status/{purpose}", headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304


def test_admin_revocation_round_trip_over_http(app, client, csrf_token, login, make_user, owner_cert):
    _owner, cid = owner_cert
    admin = make_user(role="admin")
    login(admin)
    token = csrf_token("/certificates/admin")
    missing_reason = client.post(f"/certificates/admin/{cid}/suspend", data={"csrf_token": token, "reason": ""})
    assert missing_reason.status_code == 302
    assert client.get(f"/api/v1/credentials/{cid}/verify").get_json()["valid"]

    client.post(f"/certificates/admin/{cid}/suspend", data={"csrf_token": token, "reason": "under review"})
    suspended = client.get(f"/api/v1/credentials/{cid}/verify").get_json()
    assert suspended["failed"] == ["status"]
    client.post(f"/certificates/admin/{cid}/reinstate", data={"csrf_token": token, "reason": "cleared"})
    assert client.get(f"/api/v1/credentials/{cid}/verify").get_json()["valid"]

    client.post(f"/certificates/admin/{cid}/revoke", data={"csrf_token": token, "reason": "exam misconduct"})
    revoked = client.get(f"/api/v1/credentials/{cid}/verify").get_json()
    assert not revoked["valid"] and revoked["failed"] == ["status"]
    assert "revoked" in client.get(f"/verify?id={cid}").get_data(as_text=True)
    # a revoked PDF is re-rendered under a new versioned URL
    assert client.get(f"/certificates/{cid}/v1/certificate-en.pdf").status_code == 302
    with app.app_context():
        actions = [e.action for e in AuditEvent.query.order_by(AuditEvent.id)]
        reasons = [e.detail.get("reason") for e in AuditEvent.query.filter(AuditEvent.action.like("certificate.%"))]
    assert {"certificate.issued", "certificate.suspend", "certificate.reinstate", "certificate.revoke"} <= set(actions)
    assert "exam misconduct" in reasons


def test_trainee_cannot_revoke(client, csrf_token, login, owner_cert):
    owner, cid = owner_cert
    login(owner)
    response = client.post(f"/certificates/admin/{cid}/revoke",
                           data={"csrf_token": csrf_token("/certificates/"), "reason": "x"})
    assert response.status_code == 403
    assert client.get(f"/api/v1/credentials/{cid}/verify").get_json()["valid"]


def test_bulk_results_as_csv(client, csrf_token, owner_cert):
    _owner, cid = owner_cert
    response = client.post("/verify/bulk", data={"csrf_token": csrf_token("/verify"), "format": "csv",
                                                  "ids": f"{cid}\nnot-an-id"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("credential_id,verdict") and lines[1].startswith(f"{cid},valid,")
    assert lines[2].startswith("not-an-id,unknown")
