"""Shared-page cache: a public page is the same for every anonymous visitor of one locale until course content is
imported again, so it is rendered once per process and content generation and then served from memory (what a
reverse proxy's micro-cache would do, without needing one).

Only requests that carry no session cookie and no Authorization header are served from or stored in the cache:
such a visitor cannot be signed in and has no flashed messages, so nothing personal can enter a cached page.
The content generation is a fingerprint of the courses table, read at most every PAGE_CACHE_CHECK_SECONDS per
process; after `courses import` every worker serves the new content within that many seconds.
"""
from __future__ import annotations

import secrets
import threading
import time
from functools import wraps
from typing import Callable

from flask import Response, current_app, make_response, request
from flask_babel import get_locale
from jinja2.filters import do_urlencode
from markupsafe import escape
from sqlalchemy import func, select

from ..extensions import db
from .memo import BoundedMemo

MAX_ENTRIES = 512
_STORED_STATUSES = frozenset({200})
_DROPPED_HEADERS = frozenset({"set-cookie", "content-length"})


class _Store:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pages = BoundedMemo(MAX_ENTRIES)  # key -> (body, status, headers) or a personal page's shared HTML
        self.generation: tuple | None = None
        self.checked_at = float("-inf")


def _store() -> _Store:
    found = current_app.extensions.get("nia.page_cache")  # read on every page: no throw-away _Store per call
    if found is None:
        found = current_app.extensions.setdefault("nia.page_cache", _Store())
    return found


def content_generation() -> tuple:
    """Fingerprint of the imported content (course count, newest import, archived count, and what other packages
    registered, e.g. lab points), cached briefly."""
    store = _store()
    now = time.monotonic()
    if now - store.checked_at < current_app.config["PAGE_CACHE_CHECK_SECONDS"] and store.generation is not None:
        return store.generation
    generation = tuple(db.session.execute(_fingerprint_statement()).one())
    with store.lock:
        if generation != store.generation:
            store.pages.clear()
            store.generation = generation
        store.checked_at = now
    return generation


def _fingerprint_statement():
    found = current_app.extensions.get("nia.content_fingerprint_statement")
    if found is None:
        from ..models import Course
        from .registry import content_fingerprints

        found = current_app.extensions["nia.content_fingerprint_statement"] = select(
            func.count(Course.id), func.max(Course.imported_at), func.sum(Course.archived.cast(db.Integer)),
            *content_fingerprints())
    return found


def _cacheable_request() -> bool:
    return (request.method in ("GET", "HEAD") and current_app.config["PAGE_CACHE_ENABLED"]
            and current_app.config["SESSION_COOKIE_NAME"] not in request.cookies
            and "Authorization" not in request.headers)


def shared_page(view: Callable) -> Callable:
    """Serve this public view from the shared-page cache when the visitor is anonymous without a session."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not _cacheable_request():
            return _vary(make_response(view(*args, **kwargs)))
        key = (request.endpoint, request.full_path, str(get_locale() or ""), content_generation())
        store = _store()
        found = store.pages.get(key)
        if found is not None:
            body, status, headers = found
            return Response(body, status, headers)
        response = _vary(make_response(view(*args, **kwargs)))
        if response.status_code in _STORED_STATUSES and not response.direct_passthrough:
            headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _DROPPED_HEADERS]
            store.pages.put(key, (response.get_data(), response.status_code, headers))
        return response

    return wrapped


def _vary(response: Response) -> Response:
    """The page differs by language and by who is signed in: tell shared caches downstream."""
    response.vary.update(("Accept-Language", "Cookie"))
    return response


# --- Signed-in pages: rendered once per shape, with the visitor's own parts punched in per request -------------

_HOLE = "niahole" + secrets.token_hex(8)  # letters and digits only: unchanged by HTML escaping and URL quoting
_NAME, _CSRF, _HERE = _HOLE + "name", _HOLE + "csrf", _HOLE + "here"


class _VisitorStandIn:
    """What base.html reads of current_user while a shared copy is rendered: the name is a hole."""

    is_authenticated, is_anonymous = True, False

    def __init__(self, user) -> None:
        self.is_staff, self.is_admin, self.name = bool(user.is_staff), bool(user.is_admin), _NAME


class _RequestStandIn:
    """What templates read of `request` while a shared copy is rendered: the URL is a hole."""

    def __init__(self, real) -> None:
        self.endpoint, self.script_root, self.full_path = real.endpoint, real.script_root, _HERE


def render_personal(template: str, shape: tuple, **context) -> str:
    """render_template for a signed-in page whose HTML depends only on `shape` (everything about the visitor the
    page shows, e.g. lesson done or not), the locale, the visitor's audience (trainee/staff/admin navigation) and
    the imported content; the visitor's name, CSRF token and the page's own URL are filled in per request.
    Falls back to a plain render when messages are waiting to be flashed or the cache is off."""
    from flask import render_template, session
    from flask_login import current_user
    from .signed_values import csrf_token

    user = current_user._get_current_object()
    if not current_app.config["PAGE_CACHE_ENABLED"] or session.get("_flashes") or not user.is_authenticated:
        return render_template(template, **context)
    key = ("personal", template, shape, request.endpoint, request.script_root, str(get_locale() or ""),
           bool(user.is_staff), bool(user.is_admin), content_generation())
    store = _store()
    shared = store.pages.get(key)
    if shared is None:
        shared = render_template(template, current_user=_VisitorStandIn(user), request=_RequestStandIn(request),
                                 csrf_token=lambda: _CSRF, **context)
        store.pages.put(key, shared)
    return (shared.replace(_NAME, str(escape(user.name)))
            .replace(_CSRF, csrf_token())
            .replace(_HERE, do_urlencode(request.full_path.rstrip("?"))))
