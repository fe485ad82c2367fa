"""Account pages: register, log in/out, password reset, profile with personal access tokens."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _, refresh
from flask_login import current_user, login_required, login_user, logout_user

from ..core.audit import client_ip
from ..core.exceptions import NotFound, UserError
from ..extensions import db
from ..signals import user_logged_out
from . import operations, tokens
from .forms import (LoginForm, PasswordForm, ProfileForm, RegisterForm, ResetPasswordForm,
                    ResetRequestForm, TokenForm)

bp = Blueprint("accounts", __name__, url_prefix="/accounts")


def _next_url() -> str:
    target = request.args.get("next") or ""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("core.index")


def _show_error(form, error: UserError) -> None:
    field = getattr(form, error.field or "", None)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def _form_page(template: str, form, **context):
    status = 400 if request.method == "POST" and form.errors else 200
    return render_template(template, form=form, **context), status


def _blocked_page(blocked: operations.Blocked):
    db.session.commit()  # the audit entry for the block must survive
    headers = {"Retry-After": str(blocked.block.retry_after)}
    return render_template("accounts/blocked.html", message=blocked.message), 429, headers


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_next_url())
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = operations.authenticate(form.email.data, form.password.data, client_ip())
        except operations.Blocked as blocked:
            return _blocked_page(blocked)
        except UserError as error:
            db.session.commit()  # failures are counted and audited even though the login is refused
            _show_error(form, error)
        else:
            login_user(user, remember=bool(form.remember.data))
            db.session.commit()
            return redirect(_next_url())
    return _form_page("accounts/login.html", form)


@bp.post("/logout")
@login_required
def logout():
    user_id = current_user.id
    logout_user()
    user_logged_out.send(current_app._get_current_object(), user_id=user_id)
    flash(_("You have been logged out."), "success")
    return redirect(url_for("core.index"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = operations.register_user(form.name.data, form.email.data, form.password.data,
                                            session.get("locale"))
        except UserError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            login_user(user)
            db.session.commit()
            flash(_("Welcome to NI Academy, %(name)s! Your account is ready.", name=user.name), "success")
            return redirect(url_for("core.index"))
    return _form_page("accounts/register.html", form)


@bp.route("/reset", methods=["GET", "POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        try:
            operations.request_password_reset(form.email.data, client_ip())
        except operations.Blocked as blocked:
            return _blocked_page(blocked)
        db.session.commit()
        flash(_("If an account exists for that address, we have sent it an email with a link to choose a new "
                "password. The link works for %(minutes)d minutes.",
                minutes=max(1, current_app.config["PASSWORD_RESET_MAX_AGE"] // 60)), "success")
        return redirect(url_for("accounts.login"))
    return _form_page("accounts/reset_request.html", form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if operations.user_for_reset_token(token) is None:
        return render_template("accounts/reset_invalid.html"), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        operations.reset_password(token, form.password.data)
        db.session.commit()
        logout_user()
        flash(_("Your password has been changed. Please log in with the new password."), "success")
        return redirect(url_for("accounts.login"))
    return _form_page("accounts/reset_password.html", form)


def _profile_page(status: int = 200, **forms):
    forms.setdefault("profile_form", ProfileForm(formdata=None, name=current_user.name,
                                                 locale=current_user.locale or ""))
    forms.setdefault("password_form", PasswordForm(formdata=None))
    forms.setdefault("token_form", TokenForm(formdata=None))
    headers = {"Cache-Control": "no-store"}
    return render_template("accounts/profile.html", tokens=tokens.list_tokens(current_user.id),
                           **forms), status, headers


@bp.get("/profile")
@login_required
def profile():
    return _profile_page()


@bp.post("/profile")
@login_required
def update_profile():
    form = ProfileForm()
    if not form.validate_on_submit():
        return _profile_page(400, profile_form=form)
    operations.update_profile(current_user, form.name.data, form.locale.data)
    db.session.commit()
    session.pop("locale", None)  # the profile's choice (or "same as my browser") decides from now on
    refresh()  # so the confirmation below is already in the newly chosen language
    flash(_("Your profile has been saved."), "success")
    return redirect(url_for("accounts.profile"))


@bp.post("/profile/password")
@login_required
def change_password():
    form = PasswordForm()
    try:
        if form.validate_on_submit():
            operations.change_password(current_user, form.current_password.data, form.new_password.data)
            login_user(current_user._get_current_object())  # this session continues with the new version
            db.session.commit()
            flash(_("Your password has been changed. Other devices have been signed out."), "success")
            return redirect(url_for("accounts.profile"))
    except UserError as error:
        db.session.rollback()
        _show_error(form, error)
    return _profile_page(400, password_form=form)


@bp.post("/profile/tokens")
@login_required
def create_token():
    form = TokenForm()
    try:
        if form.validate_on_submit():
            token, raw = tokens.create_token(current_user, form.token_name.data)
            db.session.commit()
            return _profile_page(200, new_token=raw, new_token_name=token.name)
    except UserError as error:
        db.session.rollback()
        _show_error(form, error)
    return _profile_page(400, token_form=form)


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    try:
        token = tokens.revoke_token(current_user, token_id)
    except NotFound:
        return render_template("core/error.html", status=404, title=_("Token not found"),
                               message=_("There is no such token in your account.")), 404
    db.session.commit()
    flash(_("The token “%(name)s” has been revoked.", name=token.name), "success")
    return redirect(url_for("accounts.profile"))
