"""Admin pages: users and roles, activation, audit log. Every route requires the admin role."""
from __future__ import annotations

from typing import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.decorators import admin_required
from ..core.exceptions import NotFound, UserError
from ..extensions import db
from ..models import User
from . import operations, queries
from .forms import ROLE_LABELS, RoleForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _back() -> str:
    target = request.form.get("next") or ""
    if target.startswith("/admin/users") and "//" not in target and "\\" not in target:
        return target
    return url_for("admin.users")


def _users_page(status: int = 200):
    q = request.args.get("q", "").strip()[:100]
    role = request.args.get("role") if request.args.get("role") in ROLE_LABELS else None
    pagination = queries.search_users(q, role, max(request.args.get("page", 1, type=int) or 1, 1))
    return render_template("admin/users.html", pagination=pagination, q=q, role=role,
                           role_labels=ROLE_LABELS), status


def _apply(action: Callable[[], User], success: Callable[[User], str]):
    """Run one admin operation, commit once, and come back to the list with a message."""
    try:
        user = action()
    except NotFound:
        abort(404)
    except UserError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _users_page(error.status)
    db.session.commit()
    flash(success(user), "success")
    return redirect(_back(), code=303)


@bp.get("/")
@admin_required
def index():
    return redirect(url_for("admin.users"))


@bp.get("/users")
@admin_required
def users():
    return _users_page()


@bp.post("/users/<int:user_id>/role")
@admin_required
def change_role(user_id: int):
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choose one of the listed roles."), "error")
        return _users_page(400)
    return _apply(lambda: operations.change_role(current_user, user_id, form.role.data),
                  lambda user: _("%(email)s is now: %(role)s.", email=user.email, role=ROLE_LABELS[user.role]))


@bp.post("/users/<int:user_id>/deactivate")
@admin_required
def deactivate(user_id: int):
    return _apply(lambda: operations.set_active(current_user, user_id, False),
                  lambda user: _("%(email)s has been deactivated and signed out.", email=user.email))


@bp.post("/users/<int:user_id>/reactivate")
@admin_required
def reactivate(user_id: int):
    return _apply(lambda: operations.set_active(current_user, user_id, True),
                  lambda user: _("%(email)s can sign in again.", email=user.email))


@bp.get("/audit")
@admin_required
def audit():
    action = request.args.get("action") or None
    pagination = queries.audit_events(action, max(request.args.get("page", 1, type=int) or 1, 1))
    actors = queries.emails_for({event.actor_id for event in pagination.items if event.actor_id})
    return render_template("admin/audit.html", pagination=pagination, action=action,
                           actions=queries.audit_actions(), actors=actors)
