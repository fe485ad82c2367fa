"""What the LMS tells relying parties about a user: identity, role and enrolled courses as groups."""
from __future__ import annotations

from sqlalchemy import select

from lms.extensions import db
from lms.models import Course, Enrolment, User

#: Group every trainee with at least one live enrolment belongs to; the hub allows it with instructors/admins.
ENROLLED_GROUP = "enrolled"
COURSE_GROUP_PREFIX = "course-"
LIVE_STATUSES = ("active", "completed")


def hub_username(user: User) -> str:
    """Stable, URL-safe and never reused: the hub's name for this account."""
    return f"u{user.id}"


def user_id_from_hub_username(name: str) -> int | None:
    if name.startswith("u") and name[1:].isdigit():
        return int(name[1:])
    return None


def enrolled_course_slugs(user_id: int) -> list[str]:
    rows = db.session.execute(
        select(Course.slug).join(Enrolment, Enrolment.course_id == Course.id)
        .where(Enrolment.user_id == user_id, Enrolment.status.in_(LIVE_STATUSES), Course.archived.is_(False))
        .order_by(Course.slug))
    return list(rows.scalars())


def groups_for(user: User) -> list[str]:
    courses = enrolled_course_slugs(user.id)
    groups = [user.role]
    if courses:
        groups.append(ENROLLED_GROUP)
    groups.extend(COURSE_GROUP_PREFIX + slug for slug in courses)
    return groups


def user_claims(user: User, scope: str) -> dict:
    scopes = set(scope.split())
    claims: dict = {"sub": str(user.id)}
    if "profile" in scopes:
        claims.update(name=user.name, preferred_username=hub_username(user))
    if "email" in scopes:
        claims["email"] = user.email
    if "groups" in scopes:
        claims["groups"] = groups_for(user)
    return claims
