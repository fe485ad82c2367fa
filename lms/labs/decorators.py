"""Who may open a lab: signed in, the lab exists (404), enrolled in its course or staff (403)."""
from __future__ import annotations

import hmac
from functools import wraps
from typing import Callable

from flask import abort, current_app, request
from flask_login import current_user, login_required

from . import providers
from .queries import may_use_lab


def lab_access_required(view: Callable) -> Callable:
    @wraps(view)
    @login_required
    def wrapped(course: str, lab: str, **kwargs):
        spec = providers.lab_spec(course, lab)
        if spec is None:
            abort(404)
        if not may_use_lab(current_user, course):
            abort(403)
        return view(spec=spec, **kwargs)

    return wrapped


def hub_secret_required(view: Callable) -> Callable:
    """Internal calls from the hub's pre_spawn_hook carry the shared secret as a bearer token."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        given = request.headers.get("Authorization", "")
        expected = "Bearer " + current_app.config["HUB_SPEC_SECRET"]
        if not hmac.compare_digest(given.encode(), expected.encode()):
            abort(401)
        return view(*args, **kwargs)

    return wrapped
