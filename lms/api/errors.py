"""Every API error is an RFC 9457 problem document (application/problem+json), documented as such in OpenAPI."""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_smorest import Api, abort
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from ..core.errors import problem
from ..core.exceptions import UserError

PROBLEM_MIMETYPE = "application/problem+json"
# Headers an error carries that the client needs (auth challenge, allowed methods, back-off).
_KEPT_HEADERS = ("WWW-Authenticate", "Allow", "Retry-After")


class ProblemSchema(Schema):
    """RFC 9457 problem details; `errors` lists field errors by location (json, query) then field."""

    type = fields.String(metadata={"description": "Problem type URI (about:blank: see title)"})
    title = fields.String(metadata={"description": "Short summary of the problem (the HTTP status phrase)"})
    status = fields.Integer(metadata={"description": "HTTP status code"})
    detail = fields.String(metadata={"description": "Explanation specific to this occurrence"})
    errors = fields.Dict(metadata={"description": "Field errors: {location: {field: [messages]}}"})


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    extra = {}
    messages = data.get("errors") or data.get("messages")  # smorest abort(errors=) / webargs validation
    if isinstance(messages, dict):
        extra["errors"] = messages
    detail = data.get("message") or (error.description if isinstance(error.description, str) else None)
    if "errors" in extra and not data.get("message"):
        detail = _("Some fields are missing or invalid: see errors.")
    if status >= 500:
        detail = _("The error has been logged. Please try again in a moment.")
    response = problem(status, error.name, detail, **extra)
    headers = dict(error.get_headers()) if status < 500 else {}  # includes WWW-Authenticate when set
    headers.update(data.get("headers") or {})
    for name in _KEPT_HEADERS:
        if name in headers:
            response.headers[name] = headers[name]
    return response


def add_allow_header(response):
    """after_request (app): a wrong method on an API URL is answered by the app-wide handler, which drops the
    Allow header that RFC 9110 requires on 405; restore it from the routing exception."""
    routing = getattr(request, "routing_exception", None)
    if response.status_code == 405 and request.path.startswith("/api/") and "Allow" not in response.headers \
            and getattr(routing, "valid_methods", None):
        response.headers["Allow"] = ", ".join(sorted(routing.valid_methods))
    return response


def unprocessable(errors: dict, message: str | None = None):
    """422 with field errors laid out like webargs' ({location: {field: [messages]}})."""
    abort(422, errors=errors, message=message or _("Some fields are missing or invalid: see errors."))


def handle_user_error(error: UserError):
    """Operations raise UserError subclasses; their status and message become the problem document."""
    status = getattr(error, "status", 400) or 400
    extra = {}
    if getattr(error, "field", None):
        extra["errors"] = {"json": {error.field: [error.message]}}
    return problem(status, HTTP_STATUS_CODES.get(status, "Error"), error.message, **extra)


def document_problems(api: Api) -> None:
    """smorest documents errors as application/json with its own Error schema: describe what we really send."""
    spec = api.spec
    components = spec.components
    if "Problem" not in components.schemas:
        components.schema("Problem", schema=ProblemSchema)
    ref = {"$ref": "#/components/schemas/Problem"}
    for response in components.responses_lazy.values():
        content = response.get("content")
        if content and "application/json" in content:
            response["content"] = {PROBLEM_MIMETYPE: {"schema": ref}}
    for response in components.responses.values():
        content = response.get("content")
        if content and "application/json" in content and "Error" in str(content):
            response["content"] = {PROBLEM_MIMETYPE: {"schema": ref}}
    # smorest registered its own Error schema eagerly; nothing refers to it once the responses point at Problem.
    components.schemas.pop("Error", None)
