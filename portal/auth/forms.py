"""The person's own settings form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from ..i18n import LANGUAGES

FOLLOW_BROWSER = ""


class LanguageForm(FlaskForm):
    language = SelectField(
        _l("Language"),
        choices=[SelectChoice(FOLLOW_BROWSER, _l("The browser's language"))]
        + [SelectChoice(code, name) for code, name in LANGUAGES.items()],
        default=FOLLOW_BROWSER,
    )
