"""Forms of the Salesforce page: choosing the login host to connect through, and confirming a disconnect."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from ..salesforce.oauth import LoginHostRefused, login_url_for


class ConnectForm(FlaskForm):
    environment = RadioField(
        "Salesforce environment",
        choices=[
            SelectChoice("production", "Production (login.salesforce.com)"),
            SelectChoice("sandbox", "Sandbox (test.salesforce.com)"),
            SelectChoice("mydomain", "My Domain"),
        ],
        default="production",
        validators=[InputRequired(message="Choose where your org logs in.")],
    )
    my_domain = StringField("My Domain host", validators=[Length(max=255)])
    submit = SubmitField("Connect to Salesforce")

    def validate_for(self, config: Mapping[str, Any]) -> str | None:
        """Validate and check the host against the allow-list (before anything is fetched); the login URL."""
        if not self.validate_on_submit():
            return None
        if self.environment.data == "mydomain" and not (self.my_domain.data or "").strip():
            self.my_domain.errors.append("Enter your org's My Domain host, for example acme.my.salesforce.com.")
            return None
        try:
            return login_url_for(self.environment.data, self.my_domain.data or "", config)
        except LoginHostRefused as refused:
            self.my_domain.errors.append(str(refused))
            return None


class DisconnectForm(FlaskForm):
    submit = SubmitField("Disconnect Salesforce")
