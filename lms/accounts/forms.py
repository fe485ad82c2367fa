"""Account forms. Field-level checks live here; rules that need the database live in operations."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from ..core.i18n import LOCALE_NAMES
from .passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

_REQUIRED = _l("This field is required.")
_TOO_SHORT = _l("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)


def _new_password(label) -> PasswordField:
    return PasswordField(label, validators=[InputRequired(_REQUIRED), Length(
        min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH, message=_TOO_SHORT)],
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH})


def _confirm(label, other: str) -> PasswordField:
    return PasswordField(label, validators=[InputRequired(_REQUIRED), EqualTo(
        other, message=_l("The two passwords do not match."))], render_kw={"autocomplete": "new-password"})


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_REQUIRED), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[InputRequired(_REQUIRED), Length(max=MAX_PASSWORD_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me signed in on this device"))


class RegisterForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(_REQUIRED), Length(max=120)],
                       render_kw={"autocomplete": "name"})
    email = EmailField(_l("Email"), validators=[DataRequired(_REQUIRED), Length(max=254)],
                       render_kw={"autocomplete": "email"})
    password = _new_password(_l("Password"))
    confirm = _confirm(_l("Repeat the password"), "password")


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_REQUIRED), Length(max=254)],
                       render_kw={"autocomplete": "email"})


class ResetPasswordForm(FlaskForm):
    password = _new_password(_l("New password"))
    confirm = _confirm(_l("Repeat the new password"), "password")


class ProfileForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(_REQUIRED), Length(max=120)],
                       render_kw={"autocomplete": "name"})
    locale = SelectField(_l("Language"), validate_choice=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = [SelectChoice("", _l("Same as my browser"))] + [
            SelectChoice(code, LOCALE_NAMES.get(code, code)) for code in current_app.config["LANGUAGES"]]


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[InputRequired(_REQUIRED)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = _new_password(_l("New password"))
    confirm_password = _confirm(_l("Repeat the new password"), "new_password")


class TokenForm(FlaskForm):
    token_name = StringField(_l("Token name"), validators=[DataRequired(_REQUIRED), Length(max=80)])

