"""Bearer-token authentication for the API.

The API never reads the session cookie: a page open in a browser (or a forged cross-site request riding on its
cookie) cannot act through the API, which is why the API blueprints can be CSRF-exempt.
"""
from __future__ import annotations

from copy import deepcopy
from functools import wraps
from typing import Callable

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_smorest import Blueprint
from flask_smorest.utils import deepupdate
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Forbidden, HTTPException, Unauthorized

from ..core.exceptions import UserError
from ..extensions import login_manager
from ..models import Role, User
from .errors import handle_http_exception, handle_user_error

SECURITY_SCHEME = "bearerAuth"
REALM = "NI Academy API"


def _challenge(detail: str, error: str | None = None) -> Unauthorized:
    params = {"realm": REALM}
    if error:
        params["error"] = error
    return Unauthorized(detail, www_authenticate=WWWAuthenticate("bearer", params))


def bearer_token() -> str | None:
    scheme, _sep, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return raw.strip() or None


def authenticate() -> User:
    """The token's user, or 401 with a Bearer challenge (RFC 6750)."""
    raw = bearer_token()
    if raw is None:
        raise _challenge(_("Send a personal access token: Authorization: Bearer <token>."))
    from ..accounts.tokens import authenticate_token

    user = authenticate_token(raw)
    if user is None or not user.is_active:
        raise _challenge(_("The access token is invalid, expired or revoked."), "invalid_token")
    g.api_user = user
    g._login_user = user  # flask-login's per-request slot: current_user is the token's user, not the cookie's
    return user


def optional_user() -> User | None:
    """Public endpoints: anonymous without a token, the token's user with a valid one, 401 with a bad one."""
    return authenticate() if request.headers.get("Authorization") else None


def api_user() -> User:
    return g.api_user


def ignore_session() -> None:
    """before_request for API blueprints: start every request anonymous, whatever cookie came with it."""
    g._login_user = login_manager.anonymous_user()
    g.api_user = None


class ApiBlueprint(Blueprint):
    """smorest Blueprint that ignores the session cookie, answers errors as problem documents and offers a
    decorator that authenticates, checks roles and documents both in OpenAPI."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Set up here, once per blueprint object: Flask forbids setup calls after the first registration.
        self.before_request(ignore_session)
        self.register_error_handler(HTTPException, handle_http_exception)
        self.register_error_handler(UserError, handle_user_error)

    def auth_required(self, *roles: Role | str) -> Callable:
        def decorator(func: Callable) -> Callable:
            @wraps(func)
            def wrapper(*args, **kwargs):
                user = authenticate()
                if roles and not user.has_role(*roles):
                    names = ", ".join(r.value if isinstance(r, Role) else r for r in roles)
                    raise Forbidden(_("This endpoint needs one of these roles: %(roles)s.", roles=names))
                return current_app.ensure_sync(func)(*args, **kwargs)

            wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
            wrapper._apidoc["manual_doc"] = deepupdate(
                deepcopy(wrapper._apidoc.get("manual_doc", {})), {"security": [{SECURITY_SCHEME: []}]})
            wrapper = self.alt_response(401, response="UNAUTHORIZED")(wrapper)
            if roles:
                wrapper = self.alt_response(403, response="FORBIDDEN")(wrapper)
            return wrapper

        return decorator
