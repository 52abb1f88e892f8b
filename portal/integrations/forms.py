"""The Service Integration → Salesforce form: the settings, and mapping rows whose pull-downs are built from the
object's describe and the calendar's booking form. Works without JavaScript: blank rows, an "Add row" button,
and a "Remove" box per row."""

from __future__ import annotations

import json
from typing import NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from ..models import OnCancel, SalesforceObject, SourceKind
from ..planner.fields import FieldInfo, ObjectFields
from ..planner.rules import RULE_HELP, RULE_LABELS, WRITE_RULES
from ..planner.validation import MAX_TYPED_VALUE
from ..validators import no_control_characters

BLANK_ROWS = 2
ROW_INDEX_PLACEHOLDER = "__index__"  # replaced by the script when it adds a row
MAX_ROWS = 100


class SourceOption(NamedTuple):
    """One entry of the source pull-down: value `question:<id>` or `item:<key>`, its label and group."""

    value: str
    label: str
    group: str


def _rule_choice(rule: str) -> str:
    """A write rule and what it does, in the viewer's language (the planner's words are marked, not translated)."""
    return _("%(rule)s: %(help)s", rule=_(RULE_LABELS[rule]), help=_(RULE_HELP[rule]))


class MappingRowForm(Form):
    """One row: Salesforce field <- source (+ fixed value, + fallback). No CSRF of its own (the outer form has it)."""

    sf_field = SelectField(_l("Salesforce field"), choices=[], validate_choice=False)
    source = SelectField(_l("Source"), choices=[], validate_choice=False)
    fixed_value = StringField(_l("Fixed value"), validators=[Length(max=MAX_TYPED_VALUE), no_control_characters()])
    fallback_value = StringField(
        _l("Fallback when blank"), validators=[Length(max=MAX_TYPED_VALUE), no_control_characters()]
    )
    write_rule = SelectField(
        _l("When to write"),
        choices=[
            SelectChoice("", _l("As usual for this field (owner, lead source, company and names: only when creating)")),
            *(SelectChoice(rule, LazyString(_rule_choice, rule)) for rule in WRITE_RULES),
        ],
        default="",
    )
    remove = BooleanField(_l("Remove this row"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.row_errors: list[str] = []  # the mapping checks' problems with this row

    @property
    def is_blank(self) -> bool:
        return not (self.sf_field.data or self.source.data or self.fixed_value.data or self.fallback_value.data)


class IntegrationForm(Form):
    object_name = RadioField(
        _l("Objects to be linked"),
        choices=[
            SelectChoice(SalesforceObject.LEAD.value, _l("Lead")),
            SelectChoice(SalesforceObject.CONTACT.value, _l("Contact")),
        ],
        default=SalesforceObject.LEAD.value,
    )
    register_event = RadioField(
        _l("Register new behavior"),
        choices=[
            SelectChoice("register", _l("Register: create a new Event for each booking")),
            SelectChoice("not_register", _l("Not register: no Event")),
        ],
        default="register",
    )
    overwrite = RadioField(
        _l("Update behavior"),
        choices=[
            SelectChoice("update", _l("Update: overwrite the existing record's mapped fields")),
            SelectChoice("not_update", _l("Not update: leave an existing record unchanged")),
        ],
        default="not_update",
    )
    contact_first = BooleanField(
        _l("If the guest is already a Contact, link to that Contact instead of creating a Lead"), default=True
    )
    on_cancel = RadioField(
        _l("On cancel"),
        choices=[
            SelectChoice(OnCancel.DELETE_EVENT.value, _l("Delete the Event")),
            SelectChoice(OnCancel.MARK_CANCELLED.value, _l("Keep the Event, its subject marked “Cancelled: ”")),
        ],
        default=OnCancel.DELETE_EVENT.value,
    )
    rows = FieldList(FormField(MappingRowForm), min_entries=0, max_entries=MAX_ROWS)
    add_row = SubmitField(_l("Add row"))
    reload = SubmitField(_l("Update field lists"))
    save = SubmitField(_l("Integration"))
    # The in-place remedies for a required field no row fills: their buttons post the field's API name.
    ask_question = StringField(validators=[Length(max=80)])
    use_fixed = StringField(validators=[Length(max=80)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mapping_errors: list[str] = []  # problems of the mapping as a whole (e.g. a required field unmapped)

    @property
    def overwrites(self) -> bool:
        return self.overwrite.data == "update"

    def live_rows(self) -> list[MappingRowForm]:
        """Rows that are neither blank nor marked for removal, in order."""
        return [entry.form for entry in self.rows if not entry.form.is_blank and not entry.form.remove.data]

    def add_blank_rows(self, count: int = BLANK_ROWS) -> None:
        for _blank in range(min(count, MAX_ROWS - len(self.rows.entries))):
            self.rows.append_entry({})

    def drop_finished_rows(self) -> None:
        """Forget removed and blank rows before the page is shown again (new blank rows are added after)."""
        kept = [entry for entry in self.rows if not entry.form.is_blank and not entry.form.remove.data]
        self.rows.entries = kept

    def set_choices(self, fields: ObjectFields, sources: list[SourceOption]) -> None:
        """Fill every row's pull-downs (and the script's blank row): the object's fields and the calendar's sources."""
        source_choices = source_choices_for(sources)
        self.row_template = MappingRowForm(prefix=f"{self.rows.name}-{ROW_INDEX_PLACEHOLDER}-")
        known_sources = {choice.value for choice in source_choices}
        for row in [*(entry.form for entry in self.rows), self.row_template]:
            row.sf_field.choices = field_choices(fields, self.overwrites, row.sf_field.data)
            row.source.choices = source_choices
            if row.source.data and row.source.data not in known_sources:
                # Keep a deleted question's row showing what it used, so the row can say why it fails.
                gone = SelectChoice(row.source.data, _l("A deleted question or item: choose another source"))
                row.source.choices = [*source_choices, gone]


def field_choices(fields: ObjectFields, overwrite: bool, selected: str | None = None) -> list[SelectChoice]:
    """Createable fields labelled "Label (ApiName)", required ones marked. Fields the user cannot update are
    still listed but disabled and hidden while overwrite is on (the script shows them again when it is off)."""
    choices = [SelectChoice("", _l("— choose a field —"))]
    for info in fields.offered(overwrite=False):
        # the chosen field stays choosable: its row may write it only when creating
        hide = overwrite and info.name != selected
        choices.append(SelectChoice(info.name, _field_label(info), _field_attributes(info, hide)))
    if selected and fields.get(selected) not in fields.offered(overwrite=False):
        # Keep a field that vanished or lost its permissions visible, so the row can show why it fails.
        choices.append(
            SelectChoice(
                selected, _("%(field)s (not available in Salesforce)", field=selected), {"data-unavailable": "1"}
            )
        )
    return choices


def _field_label(info: FieldInfo) -> str:
    return _("%(field)s — required", field=info.display) if info.required_on_create else info.display


def _field_attributes(info: FieldInfo, overwrite: bool) -> dict:
    attributes = {"data-type": info.type}
    if info.picklist_values:
        attributes["data-picklist"] = json.dumps(list(info.picklist_values))
    if info.required_on_create:
        attributes["data-required"] = "1"
    if not info.updateable:
        attributes["data-create-only"] = "1"
        if overwrite:
            attributes.update(disabled=True, hidden=True)
    return attributes


def source_choices_for(sources: list[SourceOption]) -> list[SelectChoice]:
    choices = [SelectChoice("", _l("— choose a source —"))]
    for option in sources:
        choices.append(SelectChoice(option.value, option.label, {}, option.group))
    choices.append(
        SelectChoice(SourceKind.FIXED.value, _l("A fixed value (type it in “Fixed value”)"), {}, _l("Fixed value"))
    )
    return choices


class BackfillRangeForm(Form):
    """Send earlier bookings: the days (in the calendar's time zone) whose bookings to send, both included."""

    booked_from = DateField(_l("Bookings made from"), validators=[Optional()])
    booked_to = DateField(_l("up to and including"), validators=[Optional()])

    def validate_booked_to(self, field: DateField) -> None:
        if field.data and self.booked_from.data and field.data < self.booked_from.data:
            raise ValidationError(_("The last day comes before the first day."))
