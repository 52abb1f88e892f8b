"""Helpers for the Service Integration tests: a premium team connected to the emulator with a calendar, reading the
editor's pull-downs from a page, posting the editor form, and counting describe calls in the emulator's log.

connected_world(factory, db_session, emulator, control)  -> World(team, owner, calendar, connection)
editor_form(page)  -> the form's current values as a dict, ready to change and post
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from portal.crypto import token_cipher
from portal.models import (
    Calendar,
    FieldMapping,
    OnCancel,
    Role,
    SalesforceConnection,
    SalesforceIntegration,
    SalesforceObject,
    SourceKind,
    Team,
    User,
)
from tests.salesforce_flow import store_connection


@dataclass
class World:
    team: Team
    owner: User
    calendar: Calendar
    connection: SalesforceConnection

    @property
    def editor_url(self) -> str:
        return f"/calendars/{self.calendar.id}/integrations/salesforce"


def connected_world(factory, db_session, emulator, control, **calendar_fields) -> World:
    """A premium team with an owner, a calendar they host, and a connection made from emulator tokens."""
    team = factory.team()
    owner = factory.member(team, Role.OWNER, email=f"owner{team.id}@example.test", name="Olive Owner")
    calendar = factory.calendar(team, created_by=owner, **calendar_fields)
    connection = store_connection(db_session, team.id, control.issue_tokens(), emulator.production_url, token_cipher())
    control.clear_log()
    return World(team, owner, calendar, connection)


def add_integration(
    db_session, calendar: Calendar, rows: list[tuple[str, str, str]], **settings
) -> SalesforceIntegration:
    """An integration stored directly: rows are (sf_field, kind, key-or-fixed-value)."""
    integration = SalesforceIntegration(
        calendar_id=calendar.id,
        object_name=SalesforceObject(settings.pop("object_name", SalesforceObject.LEAD)),
        register_event=settings.pop("register_event", True),
        overwrite=settings.pop("overwrite", False),
        contact_first=settings.pop("contact_first", True),
        on_cancel=OnCancel(settings.pop("on_cancel", OnCancel.DELETE_EVENT)),
        **settings,
    )
    integration.mappings = [
        FieldMapping(
            position=position,
            sf_field=field,
            source_kind=SourceKind(kind),
            source_key="" if kind == "fixed" else key,
            fixed_value=key if kind == "fixed" else "",
        )
        for position, (field, kind, key) in enumerate(rows)
    ]
    db_session.add(integration)
    db_session.flush()
    return integration


def describe_calls(control, object_name: str | None = None) -> list[dict]:
    return [
        entry
        for entry in control.request_log()
        if entry["path"].endswith("/describe") and (object_name is None or f"/sobjects/{object_name}/" in entry["path"])
    ]


class _FormReader(HTMLParser):
    """Collects a page's form controls: values, and each select's options with their attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self.options: dict[str, list[dict]] = {}
        self._select: str | None = None
        self._option: dict | None = None
        self._in_template = 0
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "template":
            self._in_template += 1
        if self._in_template:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    self.values[name] = attributes.get("value", "y")
            elif kind != "submit":
                self.values[name] = attributes.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""
        elif tag == "select" and name:
            self._select = name
            self.options[name] = []
            self.values.setdefault(name, "")
        elif tag == "option" and self._select is not None:
            self._option = {**attributes, "label": ""}
            self.options[self._select].append(self._option)
            if "selected" in attributes:
                self.values[self._select] = attributes.get("value", "")

    def handle_data(self, data):
        if self._option is not None:
            self._option["label"] += data
        elif self._textarea is not None:
            self.values[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "template":
            self._in_template -= 1
        elif tag == "textarea" and self._textarea is not None:
            text = self.values[self._textarea]
            self.values[self._textarea] = text[2:] if text.startswith("\r\n") else text.removeprefix("\n")
            self._textarea = None
        elif tag == "option":
            self._option = None
        elif tag == "select":
            self._select = None


def read_form(page: str) -> _FormReader:
    reader = _FormReader()
    reader.feed(page)
    return reader


def editor_form(page: str) -> dict[str, str]:
    return dict(read_form(page).values)


def field_options(page: str, row: int = 0) -> dict[str, dict]:
    """The Salesforce field pull-down of one row: value -> option attributes (with "label")."""
    return {option["value"]: option for option in read_form(page).options[f"rows-{row}-sf_field"] if option["value"]}


def offered(option: dict) -> bool:
    return "disabled" not in option and "hidden" not in option


def question_id(calendar: Calendar, label: str) -> int:
    return next(question.id for question in calendar.questions if question.label == label)


def editor_post(csrf: str, rows: list[tuple], *, button: str = "save", **settings) -> dict[str, str]:
    """The editor form as a browser without JavaScript posts it. rows: (field, source[, fixed or fallback value]);
    source is "question:<id>", "item:<key>" or "fixed"."""
    data = {
        "csrf_token": csrf,
        "object_name": "Lead",
        "register_event": "register",
        "overwrite": "not_update",
        "contact_first": "y",
        "on_cancel": "delete_event",
        button: "Go",
        **settings,
    }
    for index, (field, source, *value) in enumerate(rows):
        data[f"rows-{index}-sf_field"] = field
        data[f"rows-{index}-source"] = source
        if value:
            data[f"rows-{index}-{'fixed_value' if source == 'fixed' else 'fallback_value'}"] = value[0]
    return {key: value for key, value in data.items() if value is not None}


class _RowErrorReader(HTMLParser):
    """The messages shown inside each mapping row, in row order (the script's template row excluded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._in_row = self._in_errors = self._in_template = False
        self._item: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "template":
            self._in_template = True
        elif tag == "fieldset" and "data-mapping-row" in attributes and not self._in_template:
            self._in_row = True
            self.rows.append([])
        elif tag == "ul" and self._in_row and "row-errors" in (attributes.get("class") or ""):
            self._in_errors = True
        elif tag == "li" and self._in_errors:
            self._item = []

    def handle_data(self, data):
        if self._item is not None:
            self._item.append(data)

    def handle_endtag(self, tag):
        if tag == "template":
            self._in_template = False
        elif tag == "li" and self._item is not None:
            self.rows[-1].append("".join(self._item).strip())
            self._item = None
        elif tag == "ul":
            self._in_errors = False
        elif tag == "fieldset" and self._in_row:
            self._in_row = False


def row_errors(page: str) -> list[list[str]]:
    reader = _RowErrorReader()
    reader.feed(page)
    return reader.rows
