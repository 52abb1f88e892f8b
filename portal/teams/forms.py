"""Forms of the team pages (Flask-WTF, so each one carries its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from ..i18n import ROLE_LABELS
from ..models import Role

ROLE_CHOICES = [SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()]


class TeamNameForm(FlaskForm):
    name = StringField(
        _l("Team name"), validators=[DataRequired(message=_l("Enter a name for the team.")), Length(max=120)]
    )


class AddMemberForm(FlaskForm):
    # test_environment: reserved domains such as .test are harmless in an invitation and the demo uses them
    email = EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(message=_l("Enter the e-mail address of the person to add.")),
            Length(max=320),
            Email(message=_l("Enter an e-mail address like name@example.com."), test_environment=True),
        ],
    )
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=Role.MEMBER.value)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
