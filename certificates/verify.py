"""Verification of an OpenBadgeCredential, one named check at a time (no Flask, no network).

Checks: format, proof, issuer (key belongs to the expected issuer), status, dates, recipient (optional).
Every failure is a verdict naming the check; nothing here raises on bad input.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from .canonical import CanonicalisationError
from .did import KeyResolutionError, resolve_assertion_key
from .jsonld import OB_V3, VC_V2
from .proof import ProofError, verify_proof
from .status import bit, decode

logger = logging.getLogger(__name__)
CHECKS = ("format", "proof", "issuer", "status", "dates", "recipient")
MAX_UPLOAD = 512 * 1024


@dataclass
class Check:
    name: str
    status: str = "skipped"  # passed | failed | skipped
    message: str = ""
    reason: str = ""


@dataclass
class Result:
    valid: bool
    checks: list[Check]
    credential: dict[str, Any] | None = None  # only once format and proof passed
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "failed": self.failed, "checks": [asdict(c) for c in self.checks],
                "credential": self.credential}


# status list URL -> signed status list credential (or None if unavailable)
StatusFetcher = Callable[[str], "dict[str, Any] | None"]


def parse(data: bytes | str | dict) -> dict[str, Any]:
    if isinstance(data, dict):
        return data
    if isinstance(data, bytes):
        if len(data) > MAX_UPLOAD:
            raise ValueError("the file is larger than 512 KiB")
        data = data.decode("utf-8")
    value = json.loads(data)
    if not isinstance(value, dict):
        raise ValueError("a credential is a JSON object")
    return value


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str) or "T" not in value:
        raise ValueError(f"{value!r} is not an XML Schema dateTime")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return parsed


def _format_problems(doc: dict[str, Any]) -> str | None:
    context = doc.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_V2:
        return "the first @context must be the VC 2.0 context"
    if OB_V3 not in context:
        return "the Open Badges 3.0 context is missing"
    types = doc.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types or not (
            "OpenBadgeCredential" in types or "AchievementCredential" in types):
        return "type must include VerifiableCredential and OpenBadgeCredential"
    if not isinstance(doc.get("id"), str):
        return "the credential has no id"
    issuer = doc.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(issuer_id, str) or not issuer_id:
        return "the credential has no issuer id"
    if isinstance(issuer, dict) and "Profile" not in (issuer.get("type") or []):
        return "the issuer must be a Profile"
    subject = doc.get("credentialSubject")
    if not isinstance(subject, dict) or not isinstance(subject.get("achievement"), dict):
        return "credentialSubject must contain an achievement"
    identifiers = subject.get("identifier", [])
    if not isinstance(identifiers, list) or any(
            not isinstance(i, dict) or not {"type", "hashed", "identityHash", "identityType"} <= set(i)
            for i in identifiers):
        return "credentialSubject.identifier must be a list of IdentityObjects (type, hashed, identityHash, " \
               "identityType)"
    if not subject.get("id") and not identifiers:
        return "credentialSubject needs an id or an identifier"
    achievement = subject["achievement"]
    if not isinstance(achievement.get("name"), str) or not isinstance(achievement.get("criteria"), dict):
        return "the achievement needs a name and criteria"
    for key in ("validFrom", "validUntil"):
        if key in doc:
            try:
                _parse_time(doc[key])
            except (ValueError, TypeError):
                return f"{key} is not a valid date-time"
    if "validFrom" not in doc:
        return "validFrom is required"
    if not doc.get("proof"):
        return "the credential is not signed (no proof)"
    return None


def issuer_id(doc: dict[str, Any]) -> str | None:
    issuer = doc.get("issuer")
    value = issuer.get("id") if isinstance(issuer, dict) else issuer
    return value if isinstance(value, str) else None


def verify(data: bytes | str | dict, *, did_document: dict[str, Any] | None, expected_issuer: str | None = None,
           fetch_status: StatusFetcher | None = None, email: str | None = None,
           now: datetime | None = None) -> Result:
    """Never raises: an input nobody anticipated is still a verdict (format failed), not a crash."""
    try:
        return _verify(data, did_document, expected_issuer, fetch_status, email, now)
    except Exception as error:  # noqa: BLE001 - the safety net is the point
        logger.exception("unexpected error while verifying a credential")
        checks = [Check(name) for name in CHECKS]
        checks[0].status, checks[0].reason = "failed", "unprocessable"
        checks[0].message = f"the document could not be processed ({type(error).__name__})"
        return Result(valid=False, checks=checks, failed=["format"])


def _verify(data, did_document, expected_issuer, fetch_status, email, now) -> Result:
    checks = {name: Check(name) for name in CHECKS}
    if not isinstance(did_document, dict):
        did_document = None
    now = now or datetime.now(timezone.utc)

    def done(credential=None) -> Result:
        ordered = [checks[n] for n in CHECKS]
        failed = [c.name for c in ordered if c.status == "failed"]
        return Result(valid=not failed, checks=ordered, credential=credential if not failed else None,
                      failed=failed)

    fmt = checks["format"]
    try:
        doc = parse(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        fmt.status, fmt.reason = "failed", "not_json"
        fmt.message = f"not a JSON credential: {str(error)[:120]}"
        return done()
    problem = _format_problems(doc)
    if problem:
        fmt.status, fmt.reason, fmt.message = "failed", "schema", problem
        return done()

    # Issuer and key: the proof's key must be published by the expected issuer's DID document.
    iss = checks["issuer"]
    proof_check = checks["proof"]
    proof = doc["proof"][0] if isinstance(doc["proof"], list) and doc["proof"] else doc["proof"]
    method = proof.get("verificationMethod") if isinstance(proof, dict) else None
    the_issuer = issuer_id(doc)
    key = None
    if expected_issuer and the_issuer != expected_issuer:
        iss.status, iss.reason = "failed", "wrong_issuer"
        iss.message = f"issued by {the_issuer}, not by {expected_issuer}"
    elif did_document is None:
        iss.status, iss.reason, iss.message = "failed", "no_did_document", "the issuer's DID document is unavailable"
    elif did_document.get("id") != the_issuer:
        iss.status, iss.reason = "failed", "wrong_issuer"
        iss.message = f"the DID document is for {did_document.get('id')}, the credential names {the_issuer}"
    elif not isinstance(method, str) or not method.startswith(f"{the_issuer}#"):
        iss.status, iss.reason = "failed", "wrong_issuer"
        iss.message = "the proof was made with a key that does not belong to the issuer"
    else:
        try:
            key = resolve_assertion_key(did_document, method)
            iss.status, iss.message = "passed", f"key {method.split('#')[-1]} is published by {the_issuer}"
        except KeyResolutionError as error:
            iss.status, iss.reason, iss.message = "failed", error.reason, str(error)

    if key is not None:
        try:
            verify_proof(doc, lambda _method: key)
            proof_check.status, proof_check.message = "passed", "the signature matches the document"
            fmt.status, fmt.message = "passed", "Open Badges 3.0 credential (VC 2.0)"
        except CanonicalisationError as error:
            fmt.status, fmt.reason, fmt.message = "failed", error.reason, str(error)
            proof_check.message = "not checked: the document cannot be canonicalised"
        except ProofError as error:
            fmt.status = "passed"
            proof_check.status, proof_check.reason, proof_check.message = "failed", error.reason, str(error)
    else:
        fmt.status = "passed"
        proof_check.message = "not checked: no trusted key"
    if fmt.status == "failed" or proof_check.status != "passed":
        return done()

    _check_status(doc, checks["status"], did_document, fetch_status)
    _check_dates(doc, checks["dates"], now)
    if email:
        _check_recipient(doc, checks["recipient"], email)
    return done(doc)


def _check_dates(doc: dict[str, Any], check: Check, now: datetime) -> None:
    valid_from = _parse_time(doc["validFrom"])
    if valid_from > now:
        check.status, check.reason, check.message = "failed", "not_yet_valid", f"valid only from {doc['validFrom']}"
        return
    if "validUntil" in doc and _parse_time(doc["validUntil"]) <= now:
        check.status, check.reason, check.message = "failed", "expired", f"expired on {doc['validUntil']}"
        return
    check.status = "passed"
    check.message = f"valid from {doc['validFrom']}" + (f" until {doc['validUntil']}" if "validUntil" in doc else "")


def _check_status(doc: dict[str, Any], check: Check, did_document: dict[str, Any],
                  fetch_status: StatusFetcher | None) -> None:
    entries = doc.get("credentialStatus") or []
    entries = entries if isinstance(entries, list) else [entries]
    if not entries:
        check.status, check.message = "passed", "the credential has no status list (cannot be revoked)"
        return
    if fetch_status is None:
        check.status, check.message = "skipped", "status lists not available (offline): revocation not checked"
        return
    for entry in entries:
        purpose = entry.get("statusPurpose") if isinstance(entry, dict) else None
        try:
            url, index = entry["statusListCredential"], int(entry["statusListIndex"])
            if not isinstance(url, str):
                raise TypeError("statusListCredential must be a URL")
        except (KeyError, TypeError, ValueError):
            check.status, check.reason, check.message = "failed", "status_entry", "malformed credentialStatus entry"
            return
        listing = fetch_status(url)
        if listing is None:
            check.status, check.reason, check.message = "failed", "status_unavailable", f"status list {url} unavailable"
            return
        problem, bits = _checked_list(listing, url, purpose, did_document, issuer_id(doc))
        if problem or bits is None:
            check.status, check.reason, check.message = "failed", "status_list_invalid", problem or "no list"
            return
        try:
            flagged = bit(bits, index)
        except IndexError as error:
            check.status, check.reason, check.message = "failed", "status_list_invalid", f"status list: {error}"
            return
        if flagged:
            check.status, check.reason = "failed", "revoked" if purpose == "revocation" else "suspended"
            check.message = "the issuer has revoked this credential" if purpose == "revocation" \
                else "the issuer has suspended this credential"
            return
    check.status, check.message = "passed", "not revoked, not suspended"


_LIST_CACHE: dict[str, tuple[str | None, bytes | None]] = {}


def _checked_list(listing: dict[str, Any], url: str, purpose: str | None, did_document: dict[str, Any],
                  expected_issuer: str | None) -> tuple[str | None, bytes | None]:
    """(problem, bitstring), memoised on the exact bytes of list and DID document: lists are cached by design."""
    digest = hashlib.sha256(json.dumps([listing, did_document, url, purpose, expected_issuer],
                                       sort_keys=True).encode()).hexdigest()
    if digest not in _LIST_CACHE:
        problem = _status_list_problem(listing, url, purpose, did_document, expected_issuer)
        bits = None
        if problem is None:
            try:
                bits = decode(listing["credentialSubject"]["encodedList"])
            except (ValueError, OSError, KeyError, TypeError) as error:
                problem = f"status list: {error}"
        if len(_LIST_CACHE) > 64:
            _LIST_CACHE.clear()
        _LIST_CACHE[digest] = (problem, bits)
    return _LIST_CACHE[digest]


def _status_list_problem(listing: dict[str, Any], url: str, purpose: str | None, did_document: dict[str, Any],
                         expected_issuer: str | None) -> str | None:
    if not isinstance(listing, dict) or listing.get("id") != url:
        return "the status list does not match its URL"
    if "BitstringStatusListCredential" not in (listing.get("type") or []):
        return "not a BitstringStatusListCredential"
    subject = listing.get("credentialSubject") or {}
    if subject.get("statusPurpose") != purpose:
        return "status list purpose does not match the entry"
    if issuer_id(listing) != expected_issuer:
        return "the status list was not issued by the credential's issuer"
    proof = listing.get("proof") or {}
    try:
        key = resolve_assertion_key(did_document, proof.get("verificationMethod", ""))
        verify_proof(listing, lambda _m: key)
    except (KeyResolutionError, ProofError, CanonicalisationError) as error:
        return f"the status list signature does not verify: {error}"
    if "validUntil" in listing and _parse_time(listing["validUntil"]) <= datetime.now(timezone.utc):
        return "the status list has expired"
    return None


def identity_hash(email: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def _check_recipient(doc: dict[str, Any], check: Check, email: str) -> None:
    for identity in doc["credentialSubject"].get("identifier") or []:
        if not isinstance(identity, dict) or identity.get("identityType") != "emailAddress":
            continue
        if identity.get("identityHash") == identity_hash(email, str(identity.get("salt", ""))):
            check.status, check.message = "passed", "issued to this email address"
            return
    check.status, check.reason, check.message = "failed", "recipient", "not issued to this email address"
