"""Permission decorators: every view declares who may call it."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort
from flask_login import current_user, login_required

from ..models import Role


def roles_required(*roles: Role | str) -> Callable:
    """Logged in and holding one of `roles`; otherwise login redirect (anonymous) or 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


trainee_required = login_required  # any signed-in account may learn
instructor_required = roles_required(Role.INSTRUCTOR, Role.ADMIN)
admin_required = roles_required(Role.ADMIN)


def public(view: Callable) -> Callable:
    """Marks a view as intentionally open to anonymous users (employers verifying, catalog)."""
    view.is_public = True  # type: ignore[attr-defined]
    return view
