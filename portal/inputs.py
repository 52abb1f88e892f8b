"""One input policy at the edge: no control character in a path, query or form value ever reaches a view.

NUL and the other control characters have no business in anything a person types; PostgreSQL refuses NUL outright
(a server error) and the rest would be copied into records and audit entries. Refusing them here, before any view
runs, keeps every page and filter safe without each one having to remember. Forms that already tell people which
field holds them (FIELD_CHECKED_ENDPOINTS) are left to do so, next to the field.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from flask import Flask, abort, request
from flask_babel import lazy_gettext as _l

# Views whose forms refuse control characters next to the field in question (a friendlier answer than a page).
# tests/test_hardening_inputs.py checks that every name here is a real endpoint.
FIELD_CHECKED_ENDPOINTS = frozenset(
    {"booking.confirm", "calendars.new", "calendars.edit", "integrations.new", "integrations.edit"}
)
FORM_WHITESPACE = frozenset({"\t", "\n", "\r"})  # a multi-line answer may hold line breaks and tabs

REFUSED_IN_ADDRESS = _l(
    "Part of what was sent contains invisible control characters (such as NUL), which we cannot accept. "
    "Remove them from the web address and try again."
)
REFUSED_IN_FORM = _l(
    "Part of what was sent contains invisible control characters (such as NUL), which we cannot accept. "
    "Remove them from the form and try again."
)

BROKEN_LINK = _l("This link is not valid: it contains invisible control characters. Check the link and try again.")


def init_app(app: Flask) -> None:
    app.before_request(refuse_control_characters)


def refuse_control_characters() -> None:
    if has_control_character([request.path]):  # no page's address holds one: the link is broken
        abort(404, description=BROKEN_LINK)
    if has_control_character(_pairs(request.args)):
        abort(400, description=str(REFUSED_IN_ADDRESS))
    if request.endpoint in FIELD_CHECKED_ENDPOINTS:
        return
    if request.method in ("POST", "PUT", "PATCH") and has_control_character(_pairs(request.form), FORM_WHITESPACE):
        abort(400, description=str(REFUSED_IN_FORM))


def has_control_character(values: Iterable[str], allowed: frozenset[str] = frozenset()) -> bool:
    return any(unicodedata.category(char) == "Cc" and char not in allowed for value in values for char in value)


def _pairs(multidict) -> Iterable[str]:
    for key, values in multidict.lists():
        yield key
        yield from values


def whole_number(text: str, most_digits: int) -> int | None:
    """A positive-or-zero whole number typed as ASCII digits, at most `most_digits` of them, else None.

    str.isdigit alone accepts '²' (which int() refuses) and any length (int() refuses over 4,300 digits; PostgreSQL
    over its column's range)."""
    text = str(text)
    return int(text) if text.isascii() and text.isdigit() and len(text) <= most_digits else None
