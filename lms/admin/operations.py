"""Admin writes on accounts. Each leaves at least one active administrator and writes an audit entry."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..core.audit import record
from ..core.exceptions import Conflict, NotFound, UserError
from ..extensions import db
from ..models import Role, User


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


def _other_active_admins(user: User) -> int:
    return db.session.scalar(select(func.count(User.id)).where(
        User.role == Role.ADMIN.value, User.active.is_(True), User.id != user.id))


def _keep_an_admin(user: User) -> None:
    if user.is_admin and user.active and _other_active_admins(user) == 0:
        raise Conflict(_("%(email)s is the last active administrator. Make another account an administrator "
                         "first, so that someone can still manage the platform.", email=user.email))


def change_role(actor: User, user_id: int, role: str) -> User:
    user = get_user(user_id)
    if role not in {r.value for r in Role}:
        raise UserError(_("Unknown role %(role)s.", role=role), field="role")
    if role == user.role:
        return user
    if role != Role.ADMIN.value:
        _keep_an_admin(user)
    old, user.role = user.role, role
    record("user.role_changed", f"user:{user.id}", actor_id=actor.id, email=user.email, old=old, new=role)
    return user


def set_active(actor: User, user_id: int, active: bool) -> User:
    """Deactivation also ends the user's sessions (session_version) and makes their API tokens unusable."""
    user = get_user(user_id)
    if user.active == active:
        return user
    if not active:
        if user.id == actor.id:
            raise UserError(_("You cannot deactivate your own account."))
        _keep_an_admin(user)
        user.session_version += 1
    user.active = active
    record("user.reactivated" if active else "user.deactivated", f"user:{user.id}", actor_id=actor.id,
           email=user.email)
    return user
