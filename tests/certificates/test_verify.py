"""Every bad input gets a verdict naming the failed check: never a 500 and never "valid"."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from certificates.proof import create_proof


@pytest.fixture
def issued(app, make_user, make_course, complete_course, credential_doc):
    user = make_user(email="learner@example.test", name="Chan Tai Man")
    credential_id = complete_course(user.id, make_course())
    return credential_id, credential_doc(credential_id)


def _post(client, body):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    response = client.post("/api/v1/verify", data=data, content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _resign(doc, key, method=None):
    proof = doc["proof"]
    unsigned = {k: v for k, v in doc.items() if k != "proof"}
    return create_proof(unsigned, key, method or proof["verificationMethod"], proof["created"])


def test_issued_credential_is_valid_via_api_with_each_check(client, issued):
    _cid, doc = issued
    result = _post(client, doc)
    assert result["valid"] is True and result["failed"] == []
    states = {c["name"]: c["status"] for c in result["checks"]}
    assert states == {"format": "passed", "proof": "passed", "issuer": "passed", "status": "passed",
                      "dates": "passed", "recipient": "skipped"}


def test_recipient_check_by_email(client, issued):
    _cid, doc = issued
    ok = client.post("/api/v1/verify?email=Learner@Example.test", json=doc).get_json()
    assert ok["valid"] and {c["name"]: c["status"] for c in ok["checks"]}["recipient"] == "passed"
    other = client.post("/api/v1/verify?email=someone@example.test", json=doc).get_json()
    assert not other["valid"] and other["failed"] == ["recipient"]


@pytest.mark.parametrize("mutate", [
    lambda d: d["credentialSubject"].__setitem__("name", "Someone Else"),
    lambda d: d["credentialSubject"]["achievement"].__setitem__("name", "Master of Everything"),
    lambda d: d.__setitem__("validUntil", "2099-01-01T00:00:00Z"),
    lambda d: d["evidence"][0].__setitem__("description", "lab: 20 / 20 (passed)"),
])
def test_changed_field_fails_proof(client, issued, mutate):
    doc = copy.deepcopy(issued[1])
    mutate(doc)
    result = _post(client, doc)
    assert result["valid"] is False and result["failed"] == ["proof"]
    assert result["credential"] is None


def test_added_undefined_term_fails_format(client, issued):
    doc = copy.deepcopy(issued[1])
    doc["credentialSubject"]["grade"] = "A+"
    result = _post(client, doc)
    assert not result["valid"] and "format" in result["failed"]
    check = next(c for c in result["checks"] if c["name"] == "format")
    assert check["reason"] == "undefined_term" and "grade" in check["message"]


def test_proof_by_another_key_fails_proof(client, issued):
    forged = _resign(issued[1], Ed25519PrivateKey.generate())
    result = _post(client, forged)
    assert not result["valid"] and result["failed"] == ["proof"]


def test_wrong_issuer_fails_issuer(client, issued):
    doc = copy.deepcopy(issued[1])
    doc["issuer"]["id"] = "did:web:evil.example"
    forged = _resign(doc, Ed25519PrivateKey.generate(), "did:web:evil.example#key-1")
    result = _post(client, forged)
    assert not result["valid"] and result["failed"] == ["issuer"]
    assert next(c for c in result["checks"] if c["name"] == "issuer")["reason"] == "wrong_issuer"


def test_unknown_key_id_fails_issuer(client, issued):
    doc = issued[1]
    method = doc["proof"]["verificationMethod"].split("#")[0] + "#key-does-not-exist"
    result = _post(client, _resign(doc, Ed25519PrivateKey.generate(), method))
    assert not result["valid"] and result["failed"] == ["issuer"]
    assert next(c for c in result["checks"] if c["name"] == "issuer")["reason"] == "unknown_key"


@pytest.mark.parametrize("body", [b'{"@context": ["https://www.w3.org/ns/credentials/v2"', b"\x89PNG garbage",
                                  b"not json at all", b"[1, 2, 3]", b'"a string"', b"{}"])
def test_truncated_or_non_json_fails_format(client, body):
    result = _post(client, body)
    assert not result["valid"] and result["failed"] == ["format"]


def test_truncated_real_credential_fails_format(client, issued):
    text = json.dumps(issued[1])
    result = _post(client, text[: len(text) // 2])
    assert not result["valid"] and result["failed"] == ["format"]


def test_canonicalisation_bomb_fails_format_quickly(client, issued):
    doc = copy.deepcopy(issued[1])
    doc["evidence"] = [{"type": ["Evidence"], "name": f"e{i}"} for i in range(200)]
    result = _post(client, doc)
    assert not result["valid"] and "format" in result["failed"]
    assert next(c for c in result["checks"] if c["name"] == "format")["reason"] == "too_complex"


def test_deeply_nested_document_fails_format(client, issued):
    doc = copy.deepcopy(issued[1])
    nested: dict = {}
    cursor = nested
    for _ in range(200):
        cursor["narrative"] = {}
        cursor = cursor["narrative"]
    doc["credentialSubject"]["achievement"]["criteria"] = nested
    result = _post(client, doc)
    assert not result["valid"] and "format" in result["failed"]


def test_expired_credential_fails_dates(app, client, make_user, make_course):
    from certificates.operations import issue_credential
    from lms.extensions import db

    user = make_user()
    course_id = make_course(recertify_months=1)
    with app.app_context(), app.test_request_context():
        row = issue_credential(user.id, course_id, [], now=datetime.now(timezone.utc) - timedelta(days=90))
        db.session.commit()
        doc = row.document
    result = _post(client, doc)
    assert not result["valid"] and result["failed"] == ["dates"]
    assert next(c for c in result["checks"] if c["name"] == "dates")["reason"] == "expired"


@pytest.mark.parametrize("action,reason", [("revoke", "revoked"), ("suspend", "suspended")])
def test_revoked_and_suspended_fail_status(app, client, issued, action, reason):
    from certificates.operations import change_status
    from lms.extensions import db

    with app.app_context(), app.test_request_context():
        change_status(issued[0], action, "test")
        db.session.commit()
    result = client.get(f"/api/v1/credentials/{issued[0]}/verify").get_json()
    assert not result["valid"] and result["failed"] == ["status"]
    assert next(c for c in result["checks"] if c["name"] == "status")["reason"] == reason


def test_api_errors_are_problem_json(client):
    empty = client.post("/api/v1/verify", data=b"", content_type="application/json")
    assert empty.status_code == 400 and empty.mimetype == "application/problem+json"
    unknown = client.get("/api/v1/credentials/00000000-0000-0000-0000-000000000000/verify")
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"
    huge = client.post("/api/v1/verify", data=b"{" + b" " * (600 * 1024) + b"}", content_type="application/json")
    assert huge.status_code == 413


@pytest.mark.parametrize("mutate", [
    lambda d: d.__setitem__("credentialStatus", [{"statusListCredential": {"x": 1}, "statusListIndex": "1"}]),
    lambda d: d.__setitem__("credentialStatus", "nonsense"),
    lambda d: d.__setitem__("proof", [d["proof"], d["proof"]]),
    lambda d: d.__setitem__("proof", "z123"),
    lambda d: d["credentialSubject"].__setitem__("identifier", {"identityHash": 1}),
    lambda d: d.__setitem__("issuer", ["did:web:x"]),
    lambda d: d.__setitem__("validFrom", 20240101),
    lambda d: d.__setitem__("@context", {"@vocab": "https://evil.example/"}),
])
def test_odd_shapes_get_a_verdict_not_a_crash(client, issued, mutate):
    doc = copy.deepcopy(issued[1])
    mutate(doc)
    result = _post(client, doc)
    assert result["valid"] is False and result["failed"]


def test_offline_verify_tolerates_a_bad_did_document(issued):
    from certificates.verify import verify

    result = verify(issued[1], did_document=["not", "a", "did document"])
    assert not result.valid and result.failed == ["issuer"]
