"""Main navigation: each area registers its entries with who may see them."""
from __future__ import annotations

from flask import Flask, current_app, request
from flask_babel import get_locale
from flask_login import current_user

from .urls import fixed_url

# who: "all" | "anonymous" | "user" | "staff" | "admin"


def register_nav(app: Flask, endpoint: str, label, who: str = "user", order: int = 50) -> None:
    """`label` should be a lazy_gettext string so it is translated per request."""
    app.extensions.setdefault("nia.nav", []).append((order, endpoint, label, who))


def _audiences() -> dict[str, bool]:
    """Who the current visitor counts as (the user is resolved once, not once per entry)."""
    user = current_user._get_current_object() if current_user else None
    signed_in = bool(user is not None and user.is_authenticated)
    return {"all": True, "anonymous": not signed_in, "user": signed_in,
            "staff": signed_in and bool(user.is_staff), "admin": signed_in and bool(user.is_admin)}


def nav_items() -> list[tuple[str, str, str, str]]:
    """Visible entries as (endpoint, translated label, audience, URL); the same for everyone of one locale, audience
    and mount point, so built once and kept."""
    entries = current_app.extensions.get("nia.nav", [])
    audiences = _audiences()
    key = (str(get_locale() or ""), request.script_root, len(entries),
           tuple(sorted(who for who, ok in audiences.items() if ok)))
    cache = current_app.extensions.setdefault("nia.nav.rendered", {})
    found = cache.get(key)
    if found is None:
        found = cache[key] = [(endpoint, str(label), who, fixed_url(endpoint)) for _order, endpoint, label, who
                              in sorted(entries, key=lambda e: e[0]) if audiences.get(who, False)]
    return list(found)
