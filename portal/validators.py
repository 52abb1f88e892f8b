"""Form validators every feature's forms share."""

from __future__ import annotations

import unicodedata

from wtforms.validators import StopValidation, ValidationError

from .planner.values import email_problem


def no_control_characters(*, multiline: bool = False):
    """Refuse control characters (NUL, escapes, …); a multi-line field may hold line breaks and tabs."""
    allowed = {"\n", "\r", "\t"} if multiline else set()

    def check(form, field) -> None:
        value = field.data if isinstance(field.data, str) else ""
        if any(unicodedata.category(char) == "Cc" and char not in allowed for char in value):
            raise ValidationError("Remove the control characters (such as NUL) from this field.")

    return check


def salesforce_email(form, field) -> None:
    """An e-mail address Salesforce accepts (the sync's own rule), or the reason it would not, shown alone."""
    problem = email_problem(field.data) if isinstance(field.data, str) and field.data else None
    if problem is not None:
        raise StopValidation(problem)
