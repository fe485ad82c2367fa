"""Account reads other packages may use (they never query the users table for accounts themselves)."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import User


def normalise_email(email: str | None) -> str:
    return (email or "").strip().lower()


def user_by_email(email: str | None) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)
