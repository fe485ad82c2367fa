"""Account writes: registration, login with throttling, password change and reset, profile, CLI creation.

Operations add to the session and raise lms.core.exceptions errors; the caller (view or CLI) commits once.
"""
from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _, ngettext
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from ..core.audit import record
from ..core.exceptions import Conflict, NotAllowed, TooManyRequests, UserError
from ..core.mail import MailError, send_mail
from ..extensions import db
from ..models import Role, ThrottleEvent, User
from . import throttle
from .queries import normalise_email, user_by_email
from .passwords import (MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, burn_verify_time, hash_password,
                        make_reset_token, needs_rehash, read_reset_token, token_matches, verify_password)

__all__ = ["hash_password", "verify_password", "register_user", "authenticate", "change_password",
           "update_profile", "request_password_reset", "reset_password", "user_for_reset_token", "create_user",
           "normalise_email", "Blocked"]


class Blocked(TooManyRequests):
    """Too many failed logins or reset requests; carries the throttle block for Retry-After."""

    def __init__(self, message: str, block: throttle.Block):
        super().__init__(message)
        self.block = block


def check_email(email: str) -> str:
    """A syntactically valid, normalised address, or UserError on the email field."""
    from email_validator import EmailNotValidError, validate_email

    email = normalise_email(email)
    try:
        validate_email(email, check_deliverability=False, test_environment=bool(current_app.testing))
    except EmailNotValidError:
        raise UserError(_("Enter a valid email address, like name@example.com."), field="email") from None
    return email


def check_password(password: str, field: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(_("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), field=field)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(_("The password can have at most %(n)d characters.", n=MAX_PASSWORD_LENGTH), field=field)


def _email_taken(email: str) -> bool:
    return db.session.scalar(select(func.count(User.id)).where(User.email == email)) > 0


def create_user(email: str, password: str, *, name: str | None = None, role: str = Role.TRAINEE.value,
                actor_id: int | None = None) -> User:
    email = check_email(email)
    if role not in {r.value for r in Role}:
        raise UserError(_("Unknown role %(role)s; use trainee, instructor or admin.", role=role), field="role")
    check_password(password)
    if _email_taken(email):
        raise Conflict(_("An account with this email address already exists."), field="email")
    user = User(email=email, name=(name or "").strip() or email.split("@")[0], role=role,
                password_hash=hash_password(password))
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # registered at the same moment by a concurrent request
        db.session.rollback()
        raise Conflict(_("An account with this email address already exists."), field="email") from None
    record("user.created", f"user:{user.id}", actor_id=actor_id, email=email, role=role)
    return user


def register_user(name: str, email: str, password: str, locale: str | None = None) -> User:
    """Self-registration always creates a trainee; a language the visitor picked before registering is kept."""
    user = create_user(email, password, name=name, role=Role.TRAINEE.value, actor_id=None)
    user.locale = locale if locale in current_app.config["LANGUAGES"] else None
    return user


def authenticate(email: str, password: str, ip: str | None) -> User:
    """The user for these credentials; records the outcome in the audit log and throttle table."""
    email = normalise_email(email)
    block = throttle.check(throttle.LOGIN, email, ip)
    if block is not None:
        record("login.blocked", email, scope=block.scope, retry_after=block.retry_after)
        raise Blocked(ngettext("Too many failed sign-in attempts. For your security, signing in to this account "
                               "from here is paused for %(num)d minute. You can also reset your password.",
                               "Too many failed sign-in attempts. For your security, signing in to this account "
                               "from here is paused for %(num)d minutes. You can also reset your password.",
                               block.minutes), block)
    user = user_by_email(email)
    if user is None:
        burn_verify_time(password)
    if user is None or not verify_password(user.password_hash, password):
        throttle.prune()
        throttle.note(throttle.LOGIN, email, ip)
        record("login.failure", email, reason="bad_credentials")
        raise UserError(_("Wrong email or password."), field="password")
    if not user.active:
        record("login.failure", email, actor_id=user.id, reason="inactive")
        raise NotAllowed(_("This account has been deactivated. Please contact an administrator."))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    throttle.clear_login_failures(email, ip)
    record("login.success", f"user:{user.id}", actor_id=user.id)
    return user


def update_profile(user: User, name: str, locale: str | None) -> None:
    user.name = name.strip()
    user.locale = locale if locale in current_app.config["LANGUAGES"] else None


def change_password(user: User, current: str, new: str) -> None:
    """Also bumps session_version: every other session and any pending reset link stops working."""
    if not verify_password(user.password_hash, current):
        raise UserError(_("Your current password is not correct."), field="current_password")
    check_password(new, field="new_password")
    _set_password(user, new)
    record("password.changed", f"user:{user.id}", actor_id=user.id)


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.session_version += 1


def request_password_reset(email: str, ip: str | None) -> None:
    """Mails a reset link if the account exists; answers the same either way (no account enumeration)."""
    email = normalise_email(email)
    block = throttle.check(throttle.RESET, email, ip)
    if block is not None:
        record("password.reset_blocked", email, scope=block.scope)
        raise Blocked(ngettext("Too many password reset requests. Please wait %(num)d minute and check your inbox "
                               "and spam folder for the email we already sent.",
                               "Too many password reset requests. Please wait %(num)d minutes and check your inbox "
                               "and spam folder for the email we already sent.", block.minutes), block)
    throttle.note(throttle.RESET, email, ip)
    user = user_by_email(email)
    record("password.reset_requested", email, actor_id=user.id if user else None, known=user is not None)
    if user is not None and user.active:
        _send_reset_mail(user)


def _absolute_url(endpoint: str, **values) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    return base + url_for(endpoint, **values) if base else url_for(endpoint, _external=True, **values)


def _send_reset_mail(user: User) -> None:
    link = _absolute_url("accounts.reset_password", token=make_reset_token(user))
    minutes = max(1, current_app.config["PASSWORD_RESET_MAX_AGE"] // 60)
    with force_locale(user.locale or str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])):
        subject = _("Reset your NI Academy password")
        context = {"user": user, "link": link, "minutes": minutes}
        text = render_template("accounts/mail/reset_password.txt", **context)
        html = render_template("accounts/mail/reset_password.html", **context)
    try:
        send_mail(user.email, subject, text, html)
    except MailError:
        # The answer must not differ for existing accounts; operators see the failure in the log.
        current_app.logger.exception("password reset mail for user %s could not be sent", user.id)


def user_for_reset_token(token: str) -> User | None:
    found = read_reset_token(token)
    if found is None:
        return None
    user = db.session.get(User, found[0])
    if user is None or not user.active or not token_matches(user, found[1]):
        return None
    return user


def reset_password(token: str, password: str) -> User:
    user = user_for_reset_token(token)
    if user is None:
        raise UserError(_("This reset link is invalid, expired or already used. Please request a new one."))
    check_password(password)
    _set_password(user, password)
    # Owning the mailbox proves who this is: forget the failed logins that may have blocked the account.
    db.session.execute(delete(ThrottleEvent).where(ThrottleEvent.kind == throttle.LOGIN,
                                                   ThrottleEvent.email == user.email))
    record("password.reset", f"user:{user.id}", actor_id=user.id)
    return user
