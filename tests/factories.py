"""Row factories shared by the fixture plugins (a plain module: plugins must not import each other)."""
from __future__ import annotations

from lms.extensions import db
from lms.models import User


def create_user_row(app, *, email: str, name: str, role: str, password_hash: str = "!unusable") -> User:
    """Insert a user and return it detached (id, email and name readable outside the app context)."""
    with app.app_context():
        user = User(email=email, name=name, password_hash=password_hash, role=role)
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
        return user
