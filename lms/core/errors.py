"""Error pages for people and RFC 9457 problem documents for the API."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path in ("/healthz",) or (
        request.accept_mimetypes.best == "application/json")


def problem(status: int, title: str, detail: str | None = None, **extra):
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _handle_http(error: HTTPException):
    status = error.code or 500
    if wants_json():
        extra = {}
        data = getattr(error, "data", None)  # webargs/marshmallow validation errors
        if isinstance(data, dict) and "messages" in data:
            extra["errors"] = data["messages"]
        description = getattr(error, "description", None)
        response = problem(status, error.name, description if isinstance(description, str) else None, **extra)
        for name, value in error.get_headers():  # Allow, WWW-Authenticate, Retry-After …
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return render_template("core/error.html", status=status, title=_error_title(status),
                           message=_error_message(status)), status, headers


def _handle_csrf(error: CSRFError):
    if wants_json():
        return problem(400, "CSRF token missing or invalid", error.description)
    return render_template("core/error.html", status=400, title=_("Form expired"),
                           message=_("The form was open too long or was sent from another site. "
                                     "Go back, reload the page and try again.")), 400


def _error_title(status: int) -> str:
    return {400: _("Bad request"), 403: _("Not allowed"), 404: _("Page not found"),
            405: _("Method not allowed"), 413: _("Upload too large"), 429: _("Too many attempts"),
            500: _("Something went wrong")}.get(status, _("Error"))


def _error_message(status: int) -> str:
    return {403: _("Your account does not have permission to open this page."),
            404: _("We could not find that page. It may have moved or never existed."),
            413: _("The file or form you sent is larger than we accept."),
            429: _("Please wait a few minutes before trying again."),
            500: _("The error has been logged. Please try again in a moment.")}.get(
        status, _("The request could not be completed."))


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(CSRFError, _handle_csrf)
