"""JSON verification API for programs (no account needed): problem+json on bad requests, never a 500 verdict."""
from __future__ import annotations

from flask import Blueprint, request

from lms.core.errors import problem

from . import operations, queries

api_bp = Blueprint("certificates_api", __name__, url_prefix="/api/v1")


@api_bp.post("/verify")
def verify_credential():
    body = request.get_data(cache=False)
    if not body:
        return problem(400, "Empty body", "POST a credential as JSON (application/json or application/vc+ld+json)")
    if len(body) > 512 * 1024:
        return problem(413, "Credential too large", "credentials are limited to 512 KiB")
    email = request.args.get("email") or None
    result = operations.verify_online(body, email)
    return result.as_dict(), 200


@api_bp.get("/credentials/<credential_id>/verify")
def verify_by_id(credential_id: str):
    row = queries.credential(credential_id)
    if row is None:
        return problem(404, "Unknown credential", "no credential with this id was issued here")
    return operations.verify_online(row.document, request.args.get("email") or None).as_dict(), 200
