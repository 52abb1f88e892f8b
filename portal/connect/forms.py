"""Forms of the Salesforce page: choosing the login host to connect through, and confirming a disconnect."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from ..salesforce.oauth import LoginHostRefused, login_url_for


class ConnectForm(FlaskForm):
    environment = RadioField(
        _l("Salesforce environment"),
        choices=[
            SelectChoice("production", _l("Production (login.salesforce.com)")),
            SelectChoice("sandbox", _l("Sandbox (test.salesforce.com)")),
            SelectChoice("mydomain", _l("My Domain")),
        ],
        default="production",
        validators=[InputRequired(message=_l("Choose where your org logs in."))],
    )
    my_domain = StringField(_l("My Domain host"), validators=[Length(max=255)])
    submit = SubmitField(_l("Connect to Salesforce"))

    def validate_for(self, config: Mapping[str, Any]) -> str | None:
        """Validate and check the host against the allow-list (before anything is fetched); the login URL."""
        if not self.validate_on_submit():
            return None
        if self.environment.data == "mydomain" and not (self.my_domain.data or "").strip():
            self.my_domain.errors.append(_l("Enter your org's My Domain host, for example acme.my.salesforce.com."))
            return None
        try:
            return login_url_for(self.environment.data, self.my_domain.data or "", config)
        except LoginHostRefused as refused:
            self.my_domain.errors.append(str(refused))
            return None


class DisconnectForm(FlaskForm):
    submit = SubmitField(_l("Disconnect Salesforce"))
