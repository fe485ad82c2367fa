"""REST API under /api/v1 (flask-smorest): personal access tokens, problem+json errors, OpenAPI at
/api/v1/openapi.json. Views are thin: they call lms.learning and lms.quizzes operations and queries."""
from __future__ import annotations

import importlib

from flask import Flask

from ..extensions import api, csrf
from .auth import SECURITY_SCHEME
from .errors import add_allow_header, document_problems

_DESCRIPTION = (
    "NI Academy REST API. Authenticate with a personal access token from your profile page: "
    "`Authorization: Bearer nia_...`. The session cookie of the web application is never accepted here. "
    "Errors are RFC 9457 problem documents (application/problem+json); validation errors (422) list the "
    "invalid fields under `errors`. Lists are paginated with `page` and `page_size`; see the X-Pagination header.")

# Modules of this package holding one blueprint each (`blp`), registered in this order.
_RESOURCES = ("catalog", "learning", "quizzes")


def init_app(app: Flask) -> None:
    blueprints = [importlib.import_module(f"{__name__}.{name}").blp for name in _RESOURCES]
    components = api.spec.components
    api.spec.options.setdefault("info", {}).setdefault("description", _DESCRIPTION)
    if SECURITY_SCHEME not in components.security_schemes:
        components.security_scheme(SECURITY_SCHEME, {
            "type": "http", "scheme": "bearer",
            "description": "Personal access token created on your profile page (nia_...)."})
    for blp in blueprints:
        csrf.exempt(blp)  # authenticated by bearer token only, never by the session cookie
        api.register_blueprint(blp)
    document_problems(api)
    app.after_request(add_allow_header)
