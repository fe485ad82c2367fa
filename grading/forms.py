"""Upload and override forms (CSRF-protected by Flask-WTF)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DecimalField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

_NOTEBOOK = [FileRequired(_l("Choose a notebook file.")), FileAllowed(["ipynb"], _l("Upload a .ipynb notebook."))]


class SubmitForm(FlaskForm):
    notebook = FileField(_l("Your notebook (.ipynb)"), validators=_NOTEBOOK)


class SourceUploadForm(FlaskForm):
    notebook = FileField(_l("Source notebook with solutions and tests (.ipynb)"), validators=_NOTEBOOK)


class OverrideForm(FlaskForm):
    score = DecimalField(_l("New score"), places=2, validators=[InputRequired(), NumberRange(min=0)])
    reason = TextAreaField(_l("Reason (kept in the audit log)"), validators=[DataRequired(), Length(min=5, max=1000)])
