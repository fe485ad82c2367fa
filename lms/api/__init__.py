"""REST API under /api/v1 (flask-smorest): personal access tokens, problem+json errors, OpenAPI at
/api/v1/openapi.json. Views are thin: they call lms.learning and lms.quizzes operations and queries."""
from __future__ import annotations

import importlib

from flask import Flask

from ..extensions import api, csrf
from .auth import SECURITY_SCHEME
from .errors import document_problems

# Modules of this package holding one blueprint each (`blp`), registered in this order.
_RESOURCES = ("catalog", "learning", "quizzes")


def init_app(app: Flask) -> None:
    app.config.setdefault("API_PAGE_SIZE_MAX", 100)
    blueprints = [importlib.import_module(f"{__name__}.{name}").blp for name in _RESOURCES]
    components = api.spec.components
    if SECURITY_SCHEME not in components.security_schemes:
        components.security_scheme(SECURITY_SCHEME, {
            "type": "http", "scheme": "bearer",
            "description": "Personal access token created on your profile page (nia_...)."})
    for blp in blueprints:
        csrf.exempt(blp)  # authenticated by bearer token only, never by the session cookie
        api.register_blueprint(blp)
    document_problems(app, api)
