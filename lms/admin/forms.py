"""Admin forms: each row of the users table posts one of these (CSRF included)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField
from wtforms.validators import InputRequired

from ..models import Role

ROLE_LABELS = {Role.TRAINEE.value: _l("Trainee"), Role.INSTRUCTOR.value: _l("Instructor"),
               Role.ADMIN.value: _l("Administrator")}


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[SelectChoice(value, label) for value, label in ROLE_LABELS.items()],
                       validators=[InputRequired()], validate_choice=True)

