"""Errors raised by operations for the caller to show: views flash them, the API returns problem documents."""
from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; the message is already translated and safe to show."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(UserError):
    status = 403


class NotFound(UserError):
    status = 404


class Conflict(UserError):
    status = 409


class TooManyRequests(UserError):
    status = 429
