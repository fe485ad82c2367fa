"""URLs that are the same on every request (static files, argument-less pages), built once per app.

`url_for` walks the URL map on every call; base.html needs about ten such URLs on every page, and they only
depend on the endpoint and the script root (the mount point), so they are kept per (script root, endpoint).
Only use `fixed_url` for endpoints whose URL cannot depend on the request (no url_defaults, no variable parts)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request, url_for

_MAX_ENTRIES = 256  # bounded: the script root comes from the server, but never let anything grow without limit


def fixed_url(endpoint: str, filename: str | None = None) -> str:
    cache = current_app.extensions.setdefault("nia.fixed_urls", {})
    key = (request.script_root, endpoint, filename)
    found = cache.get(key)
    if found is None:
        found = url_for(endpoint, filename=filename) if filename is not None else url_for(endpoint)
        if len(cache) >= _MAX_ENTRIES:
            cache.clear()
        cache[key] = found
    return found


def safe_next(target: str | None, fallback_endpoint: str = "core.index") -> str:
    """A local path to go back to after an action, or the home page: never another site (open redirect).

    Browsers read `//host`, `/\\host` and paths with control characters as other hosts, so those are refused too."""
    if (not target or len(target) > 2048 or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target)):
        return url_for(fallback_endpoint)
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for(fallback_endpoint)
    return target
