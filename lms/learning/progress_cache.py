"""Course progress of the signed-in learner, kept per process while nothing it is computed from has changed.

The key is (learner, course, the learner's progress stamp, the content generation): any write to the learner's
progress rows replaces the stamp in the same transaction (lms.core.progress_stamp), a course import or a lab
build changes the generation, so a cached answer is never one the database would not give. Other learners'
progress (gradebooks, staff views) is computed, as is anything in a request that has already changed progress.
"""
from __future__ import annotations

from typing import Any, Callable

from flask import current_app, g

from ..core.memo import app_memo
from ..core.page_cache import content_generation
from ..core.progress_stamp import written_now

MAX_ENTRIES = 4096


def cached_progress(user_id: int, course, compute: Callable[[int, Any], dict[str, Any]]) -> dict[str, Any]:
    """compute(user_id, course), or the same answer from memory. Callers must not modify the result."""
    stamp = _signed_in_stamp(user_id)
    if stamp is None or not current_app.config["PAGE_CACHE_ENABLED"]:
        return compute(user_id, course)
    key = (user_id, course.id, stamp, content_generation())
    memo = app_memo(current_app, "nia.progress_cache", MAX_ENTRIES)
    found = memo.get(key)
    if found is None:
        found = compute(user_id, course)
        memo.put(key, found)
    return found


def _signed_in_stamp(user_id: int) -> int | None:
    """The stamp read with the signed-in user at the start of this request, if `user_id` is that user and this
    request has not changed any progress since."""
    user = g.get("_login_user")  # flask-login's per-request slot; never loads a user just for this
    if user is None or not user.is_authenticated or user.id != user_id or written_now():
        return None
    return getattr(user, "progress_stamp", None)
