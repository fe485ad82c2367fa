"""Main navigation: each area registers its entries with who may see them."""
from __future__ import annotations

from flask import Flask, current_app
from flask_login import current_user

# who: "all" | "anonymous" | "user" | "staff" | "admin"


def register_nav(app: Flask, endpoint: str, label, who: str = "user", order: int = 50) -> None:
    """`label` should be a lazy_gettext string so it is translated per request."""
    app.extensions.setdefault("nia.nav", []).append((order, endpoint, label, who))


def _visible(who: str) -> bool:
    signed_in = bool(current_user and current_user.is_authenticated)
    return {"all": True, "anonymous": not signed_in, "user": signed_in,
            "staff": signed_in and current_user.is_staff,
            "admin": signed_in and current_user.is_admin}.get(who, False)


def nav_items() -> list[tuple[str, str, str]]:
    entries = sorted(current_app.extensions.get("nia.nav", []), key=lambda e: e[0])
    return [(endpoint, str(label), who) for _order, endpoint, label, who in entries if _visible(who)]
