"""Writes: issuing on completion, revoking/suspending/reinstating, re-signing status lists. Callers commit once."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from lms.core.audit import record
from lms.core.exceptions import NotFound, UserError
from lms.extensions import db

from . import queries
from .did import did_document, did_for_url
from .issue import build_credential, iso
from .keys import KeyError_, active_key, ensure_key, load_private
from .models import IssuedCredential, StatusList
from .proof import create_proof
from .status import PURPOSES, random_index, status_entries, status_list_credential
from .verify import Result, verify


def issuer_did() -> str:
    return did_for_url(queries.base_url())


def current_did_document() -> dict[str, Any]:
    return did_document(issuer_did(), queries.published_keys())


def _sign(document: dict[str, Any], now: datetime) -> tuple[dict[str, Any], str]:
    key = ensure_key()
    signed = create_proof(document, load_private(key), f"{issuer_did()}#{key.key_id}", iso(now))
    return signed, key.key_id


def issue_credential(user_id: int, course_id: int, evidence: list[dict[str, Any]] | None = None,
                     now: datetime | None = None) -> IssuedCredential:
    """Sign and store a credential for a completed course; an existing active one for the course is kept."""
    now = now or datetime.now(timezone.utc)
    course = queries.course_info(course_id)
    user = queries.user_info(user_id)
    if course is None or user is None:
        raise NotFound(_("Unknown course or learner."))
    existing = queries.current_for(user_id, course["slug"])
    if existing is not None and existing.state in ("active", "suspended"):
        return existing
    if evidence is None:
        from lms.core.registry import completion_evidence

        evidence = completion_evidence(user_id, course["slug"])
    credential_id = str(uuid.uuid4())
    revocation_index = random_index(lambda i: queries.index_taken("revocation", i))
    suspension_index = random_index(lambda i: queries.index_taken("suspension", i))
    base = queries.base_url()
    document = build_credential(
        credential_id=credential_id, base_url=base, issuer_did=issuer_did(),
        issuer_name=current_app.config["CERTS_ISSUER_NAME"], course=course, recipient_name=user["name"],
        recipient_email=user["email"], evidence=evidence or [], issued=now,
        status=status_entries(base, revocation_index, suspension_index))
    signed, key_id = _sign(document, now)
    row = IssuedCredential(
        id=credential_id, user_id=user_id, course_id=course.get("id", course_id), course_slug=course["slug"],
        title=signed["name"], key_id=key_id, document=signed, issued_at=now,
        valid_until=datetime.fromisoformat(signed["validUntil"].replace("Z", "+00:00"))
        if "validUntil" in signed else None,
        revocation_index=revocation_index, suspension_index=suspension_index)
    db.session.add(row)
    if existing is not None:
        existing.replaced_by = credential_id  # renewal: the old one stays verifiable until it expires
    record("certificate.issued", f"credential:{credential_id}", actor_id=None, user_id=user_id,
           course=course["slug"], key=key_id)
    db.session.flush()
    return row


def on_course_completed(sender, **kwargs) -> None:
    """Signal receiver: issue in the sender's transaction (the sender commits). A missing or unreadable issuer
    key must not undo the learner's completion: it is logged and shown by /healthz; `certs issue` catches up."""
    try:
        issue_credential(int(kwargs["user_id"]), int(kwargs["course_id"]), kwargs.get("evidence"))
    except KeyError_ as error:
        current_app.logger.error("certificate not issued for user %s course %s: %s", kwargs.get("user_id"),
                                 kwargs.get("course_id"), error)
        record("certificate.issue_failed", f"course:{kwargs.get('course_id')}", actor_id=None,
               user_id=kwargs.get("user_id"), error=str(error))


def health() -> dict[str, Any]:
    key = active_key()
    if key is None:
        return {"status": "ok" if current_app.config.get("CERTS_AUTO_KEYGEN") else "degraded",
                "detail": "no issuer key yet" + ("" if current_app.config.get("CERTS_AUTO_KEYGEN")
                                                 else ": run `flask --app lms certs keygen`")}
    try:
        load_private(key)
    except KeyError_ as error:
        return {"status": "degraded", "detail": str(error)}
    return {"status": "ok", "key": key.key_id, "did": issuer_did()}


def change_status(credential_id: str, action: str, reason: str) -> IssuedCredential:
    row = queries.credential(credential_id)
    if row is None:
        raise NotFound(_("No such certificate."))
    reason = (reason or "").strip()
    if not reason:
        raise UserError(_("Give a reason; it is kept in the audit log."), field="reason")
    if action == "revoke":
        if row.revoked_at is not None:
            raise UserError(_("This certificate is already revoked."))
        row.revoked_at = datetime.now(timezone.utc)
        touched = ["revocation"]
    elif action == "suspend":
        if row.revoked_at is not None or row.suspended:
            raise UserError(_("Only an active certificate can be suspended."))
        row.suspended = True
        touched = ["suspension"]
    elif action == "reinstate":
        if not row.suspended:
            raise UserError(_("Only a suspended certificate can be reinstated (revocation is final)."))
        row.suspended = False
        touched = ["suspension"]
    else:
        raise UserError(_("Unknown action."))
    row.status_reason = reason
    row.revision += 1
    db.session.flush()
    for purpose in touched:
        refresh_status_list(purpose)
    record(f"certificate.{action}", f"credential:{row.id}", reason=reason, user_id=row.user_id)
    return row


def refresh_status_list(purpose: str) -> StatusList:
    now = datetime.now(timezone.utc)
    url = f"{queries.base_url()}/credentials/status/{purpose}"
    unsigned = status_list_credential(url, issuer_did(), purpose, queries.flagged_indexes(purpose), iso(now))
    signed, _key = _sign(unsigned, now)
    row = queries.status_list(purpose)
    if row is None:
        row = StatusList(purpose=purpose, document=signed, updated_at=now)
        db.session.add(row)
    else:
        row.document, row.updated_at = signed, now
    db.session.flush()
    return row


def status_list_document(purpose: str) -> dict[str, Any]:
    """The signed list, created on first use (then committed by the caller)."""
    if purpose not in PURPOSES:
        raise NotFound(_("No such status list."))
    row = queries.status_list(purpose)
    active = active_key()
    if row is None or row.document.get("issuer") != issuer_did() or active is None or \
            row.document.get("proof", {}).get("verificationMethod") != f"{issuer_did()}#{active.key_id}":
        row = refresh_status_list(purpose)  # first use, new host name, or key rotation
        db.session.commit()
    return row.document


def verify_online(data: Any, email: str | None = None) -> Result:
    """Verify against our own DID document and status lists (as an outside verifier would see them)."""
    did_doc = current_did_document()
    base = queries.base_url()

    def fetch(url: str) -> dict[str, Any] | None:
        for purpose in PURPOSES:
            if url == f"{base}/credentials/status/{purpose}":
                return status_list_document(purpose)
        return None

    return verify(data, did_document=did_doc, expected_issuer=issuer_did(), fetch_status=fetch, email=email)
