"""Form validators every feature's forms share."""

from __future__ import annotations

import unicodedata

from wtforms.validators import ValidationError


def no_control_characters(*, multiline: bool = False):
    """Refuse control characters (NUL, escapes, …); a multi-line field may hold line breaks and tabs."""
    allowed = {"\n", "\r", "\t"} if multiline else set()

    def check(form, field) -> None:
        value = field.data if isinstance(field.data, str) else ""
        if any(unicodedata.category(char) == "Cc" and char not in allowed for char in value):
            raise ValidationError("Remove the control characters (such as NUL) from this field.")

    return check
