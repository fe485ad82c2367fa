"""Login and reset throttling from ThrottleEvent rows, counted per account, per (account, IP) and per IP.

The per-IP limit is generous (a classroom of 40 trainees shares one NAT address) while the per-account limits are
strict; a success clears that account's failures from that address so honest typos do not add up.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import ThrottleEvent

LOGIN, RESET = "login", "reset"


@dataclass(frozen=True)
class Block:
    scope: str  # "account" | "account_ip" | "ip"
    retry_after: int  # seconds until the oldest counted event leaves the window

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


def _window() -> timedelta:
    return timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])


def _limits(kind: str) -> list[tuple[str, int]]:
    config = current_app.config
    if kind == LOGIN:
        return [("account", config["LOGIN_FAILURES_PER_ACCOUNT"]),
                ("account_ip", config["LOGIN_FAILURES_PER_ACCOUNT_IP"]),
                ("ip", config["LOGIN_FAILURES_PER_IP"])]
    return [("account", config["RESET_REQUESTS_PER_ACCOUNT"]), ("ip", config["RESET_REQUESTS_PER_IP"])]


def _conditions(kind: str, scope: str, email: str, ip: str, since: datetime) -> list:
    conditions = [ThrottleEvent.kind == kind, ThrottleEvent.at >= since]
    if scope in ("account", "account_ip"):
        conditions.append(ThrottleEvent.email == email)
    if scope in ("ip", "account_ip"):
        conditions.append(ThrottleEvent.ip == ip)
    return conditions


def check(kind: str, email: str, ip: str | None) -> Block | None:
    """The first limit already reached for this attempt, or None when it may proceed."""
    now = datetime.now(timezone.utc)
    since = now - _window()
    for scope, limit in _limits(kind):
        where = _conditions(kind, scope, email, ip or "", since)
        count, oldest = db.session.execute(
            select(func.count(ThrottleEvent.id), func.min(ThrottleEvent.at)).where(*where)).one()
        if count >= limit:
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=timezone.utc)
            return Block(scope, max(1, int((oldest + _window() - now).total_seconds()) + 1))
    return None


def note(kind: str, email: str, ip: str | None) -> None:
    """Count one failed login or reset request (added to the session; the request commits)."""
    db.session.add(ThrottleEvent(kind=kind, email=email, ip=ip or ""))


def clear_login_failures(email: str, ip: str | None) -> None:
    db.session.execute(delete(ThrottleEvent).where(
        ThrottleEvent.kind == LOGIN, ThrottleEvent.email == email, ThrottleEvent.ip == (ip or "")))


def prune() -> None:
    """Forget events that no longer count, so the table stays small."""
    cutoff = datetime.now(timezone.utc) - _window()
    db.session.execute(delete(ThrottleEvent).where(ThrottleEvent.at < cutoff))
