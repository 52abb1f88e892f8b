"""Forms: the calendar editor, and the guest's booking form built from a calendar's questions."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, time
from functools import cache

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import Select, html_params

from ..i18n import N_, current_language
from ..inputs import whole_number
from ..models import Calendar, NameFormat, Question, QuestionKind
from ..validators import no_control_characters, salesforce_email
from .slots import WeeklyRange, is_time_zone, time_zone_names

# The built-in questions' labels, stored with each calendar in English and translated when shown.
BUILT_IN_LABELS = {
    QuestionKind.FULL_NAME: N_("Name"),
    QuestionKind.FAMILY_NAME: N_("Family name"),
    QuestionKind.GIVEN_NAME: N_("Given name"),
    QuestionKind.EMAIL: N_("E-mail"),
    QuestionKind.COMPANY: N_("Company"),
    QuestionKind.PHONE: N_("Phone"),
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CUSTOM_KINDS = (
    (QuestionKind.SHORT_TEXT.value, _l("Short text")),
    (QuestionKind.LONG_TEXT.value, _l("Long text")),
    (QuestionKind.SINGLE_SELECT.value, _l("Single select")),
    (QuestionKind.CHECKBOX.value, _l("Checkbox")),
)
# The longest answer each kind may hold: the Booking column size for built-in questions.
KIND_MAX_LENGTH = {
    QuestionKind.FULL_NAME: 200,
    QuestionKind.FAMILY_NAME: 100,
    QuestionKind.GIVEN_NAME: 100,
    QuestionKind.EMAIL: 320,
    QuestionKind.COMPANY: 200,
    QuestionKind.PHONE: 40,
    QuestionKind.SHORT_TEXT: 500,
    QuestionKind.LONG_TEXT: 10000,
    QuestionKind.SINGLE_SELECT: 200,
    QuestionKind.CHECKBOX: 3,
}
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$"
PHONE_PATTERN = r"^[0-9+()./\- ]*$"
RANGE_PATTERN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


# Invisible characters that hide or reorder what a name shows (zero-width space, word joiner, byte-order mark,
# direction marks, embeddings, overrides and isolates). Zero-width (non-)joiners stay: some scripts need them.
INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u2060\ufeff\u180e\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)
NAME_KINDS = (QuestionKind.FULL_NAME, QuestionKind.GIVEN_NAME, QuestionKind.FAMILY_NAME, QuestionKind.COMPANY)


def _strip_invisible(value):
    return value.translate(INVISIBLE) if isinstance(value, str) else value


def visible_content(form, field) -> None:
    """A required answer needs something a person can read: spaces of any kind (U+3000 too) are not one."""
    value = field.data if isinstance(field.data, str) else ""
    if not any(unicodedata.category(char)[0] not in "ZC" for char in value):
        raise StopValidation(_("This is required."))


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(time_zone_names())]


@cache
def _time_zone_options() -> str:
    """The ~600 <option>s of the time-zone picker, rendered once per process."""
    return "".join(f'<option value="{escape(value)}">{escape(label)}</option>' for value, label in time_zone_choices())


def time_zone_options(selected: str) -> Markup:
    """The time-zone picker's options with `selected` marked."""
    option = f'<option value="{escape(selected)}">'
    return Markup(_time_zone_options().replace(option, f'<option value="{escape(selected)}" selected>', 1))


@cache
def _time_zone_select_choices() -> list[SelectChoice]:
    return choices(time_zone_choices())


class TimeZoneSelect(Select):
    """The calendar editor's time-zone picker, as WTForms' Select renders it, its ~600 options from the text
    rendered once per process instead of one html_params call each."""

    def __call__(self, field, **kwargs) -> Markup:
        kwargs.setdefault("id", field.id)
        kwargs.update(
            {k: getattr(field.flags, k) for k in self.validation_attrs if k in dir(field.flags) and k not in kwargs}
        )
        selected = escape(field.data) if isinstance(field.data, str) else None
        options = _time_zone_options()
        if selected is not None:
            options = options.replace(f'<option value="{selected}">', f'<option selected value="{selected}">', 1)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


def valid_time_zone(form, field) -> None:
    if not is_time_zone(field.data or ""):
        raise ValidationError(_("Choose a time zone from the list."))


# --- Calendar editor -------------------------------------------------------------------------------------------


def parse_ranges(text: str, weekday: int) -> list[WeeklyRange]:
    """'09:00-12:00, 13:00-17:30' -> ranges; ValueError with a message the editor can show."""
    ranges = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        match = RANGE_PATTERN.match(part)
        if not match:
            raise ValueError(_("“%(part)s” is not a range like 09:00-12:00.", part=part))
        start_h, start_m, end_h, end_m = (int(number) for number in match.groups())
        if start_h > 23 or end_h > 23 or start_m > 59 or end_m > 59:
            raise ValueError(_("“%(part)s” has a time that does not exist (use 00:00 to 23:59).", part=part))
        start, end = time(start_h, start_m), time(end_h, end_m)
        if start >= end:
            raise ValueError(_("In “%(part)s” the start must be before the end.", part=part))
        ranges.append(WeeklyRange(weekday, start, end))
    return ranges


class AvailabilityField(StringField):
    """One weekday's open ranges as text; `.ranges` holds them parsed once validated."""

    def __init__(self, label: str, weekday: int, **kwargs) -> None:
        super().__init__(label, filters=[_strip], validators=[Length(max=400), no_control_characters()], **kwargs)
        self.weekday = weekday
        self.ranges: list[WeeklyRange] = []

    def post_validate(self, form, validation_stopped: bool) -> None:
        if validation_stopped:
            return
        try:
            self.ranges = parse_ranges(self.data or "", self.weekday)
        except ValueError as error:
            self.errors.append(str(error))


class HostRow(Form):
    user_id = HiddenField()
    selected = BooleanField(_l("Participates"))
    order = IntegerField(_l("Order"), validators=[Optional(), NumberRange(min=1, max=999)])


class QuestionRow(Form):
    """A custom question; a row with an empty label and no id is an unused blank row."""

    id = HiddenField()
    kind = SelectField(_l("Type"), choices=choices(CUSTOM_KINDS))
    label = StringField(_l("Label"), filters=[_strip], validators=[Length(max=200), no_control_characters()])
    required = BooleanField(_l("Required"))
    max_length = IntegerField(_l("Maximum length"), validators=[Optional(), NumberRange(min=1, max=10000)])
    options = TextAreaField(
        _l("Choices (one per line)"),
        filters=[_strip],
        validators=[Length(max=4000), no_control_characters(multiline=True)],
    )
    remove = BooleanField(_l("Remove this question"))

    @property
    def is_blank(self) -> bool:
        return not self.id.data and not self.label.data

    def option_list(self) -> list[str]:
        return [line.strip() for line in (self.options.data or "").splitlines() if line.strip()]

    def validate(self, extra_validators=None) -> bool:
        if self.is_blank:
            return True
        valid = super().validate(extra_validators)
        if not self.remove.data and not self.label.data:
            self.label.errors = [*self.label.errors, _("Give the question a label.")]
            valid = False
        if self.kind.data == QuestionKind.SINGLE_SELECT and not self.remove.data and not self.option_list():
            self.options.errors = [*self.options.errors, _("A single-select question needs at least one choice.")]
            valid = False
        return valid


def _limit_field(kind: QuestionKind, label: str) -> IntegerField:
    cap = KIND_MAX_LENGTH[kind]
    # Lazy: the class is built at import, and each viewer reads the labels in their own language.
    return IntegerField(
        LazyString(lambda: _("%(label)s: most characters", label=_(label))),
        description=_l("Up to %(cap)s; empty: %(cap)s.", cap=cap),
        validators=[Optional(), NumberRange(min=1, max=cap, message=_l("Use a number from 1 to %(cap)s.", cap=cap))],
    )


class BuiltInLimits(Form):
    """The most characters a guest may type for each built-in question, set like a custom question's (issue 12)."""

    full_name = _limit_field(QuestionKind.FULL_NAME, N_("Name"))
    family_name = _limit_field(QuestionKind.FAMILY_NAME, N_("Family name"))
    given_name = _limit_field(QuestionKind.GIVEN_NAME, N_("Given name"))
    email = _limit_field(QuestionKind.EMAIL, N_("E-mail"))
    company = _limit_field(QuestionKind.COMPANY, N_("Company"))
    phone = _limit_field(QuestionKind.PHONE, N_("Phone"))


OPTIONAL_FIELD_CHOICES = [("off", _l("Not asked")), ("optional", _l("Optional")), ("required", _l("Required"))]


class CalendarForm(FlaskForm):
    name = StringField(
        _l("Name"), filters=[_strip], validators=[InputRequired(), Length(max=120), no_control_characters()]
    )
    private_name = StringField(
        _l("Private name (only your team sees it)"),
        filters=[_strip],
        validators=[Length(max=120), no_control_characters()],
    )
    slug = StringField(
        _l("URL slug"),
        filters=[_strip, lambda v: v.lower() if isinstance(v, str) else v],
        validators=[
            InputRequired(),
            Regexp(SLUG_PATTERN, message=_l("Use 1–80 lower-case letters, digits and hyphens (not at the ends).")),
        ],
    )
    duration_minutes = IntegerField(
        _l("Duration (minutes)"), default=30, validators=[InputRequired(), NumberRange(min=5, max=1440)]
    )
    time_zone = SelectField(
        _l("Time zone"),
        default="UTC",
        validators=[valid_time_zone],
        validate_choice=False,
        widget=TimeZoneSelect(),
        render_kw={"translate": "no"},  # IANA zone names (America/Swift_Current) are identifiers, not English
    )
    buffer_minutes = IntegerField(
        _l("Buffer between bookings (minutes)"), default=0, validators=[InputRequired(), NumberRange(min=0, max=1440)]
    )
    min_notice_minutes = IntegerField(
        _l("Minimum notice (minutes)"), default=60, validators=[InputRequired(), NumberRange(min=0, max=525600)]
    )
    window_days = IntegerField(
        _l("Booking window (days ahead)"), default=30, validators=[InputRequired(), NumberRange(min=1, max=730)]
    )
    meeting_url = URLField(
        _l("Web meeting URL"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=500),
            no_control_characters(),  # the pattern's [^\s] lets NUL through
            Regexp(r"^https?://[^\s]+$", message=_l("Enter a web address starting with https://.")),
        ],
    )
    monday = AvailabilityField(_l("Monday"), 0)
    tuesday = AvailabilityField(_l("Tuesday"), 1)
    wednesday = AvailabilityField(_l("Wednesday"), 2)
    thursday = AvailabilityField(_l("Thursday"), 3)
    friday = AvailabilityField(_l("Friday"), 4)
    saturday = AvailabilityField(_l("Saturday"), 5)
    sunday = AvailabilityField(_l("Sunday"), 6)
    hosts = FieldList(FormField(HostRow))
    name_format = SelectField(
        _l("Name question"),
        choices=choices(
            [
                (NameFormat.FULL.value, _l("One full-name question")),
                (NameFormat.FAMILY_GIVEN.value, _l("Family and given name")),
            ]
        ),
    )
    company = SelectField(_l("Company question"), choices=choices(OPTIONAL_FIELD_CHOICES))
    phone = SelectField(_l("Phone question"), choices=choices(OPTIONAL_FIELD_CHOICES))
    built_in_limits = FormField(BuiltInLimits, label=_l("Maximum lengths"))
    questions = FieldList(FormField(QuestionRow))
    # Shown only when saving would leave the Salesforce mapping unable to fill fields (editor.MappingAtRisk).
    confirm_mapping_changes = BooleanField(
        _l("Save anyway: the Salesforce integration is marked “Needs attention” until its mapping is fixed")
    )

    def __init__(self, *args, members: list[tuple[int, str]] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone.choices = _time_zone_select_choices()  # built once: the list is never changed
        self.member_names = dict(members)

    @property
    def availability_fields(self) -> list[AvailabilityField]:
        return [self[day.lower()] for day in WEEKDAYS]

    def weekly_ranges(self) -> list[WeeklyRange]:
        return [weekly for field in self.availability_fields for weekly in field.ranges]

    def chosen_hosts(self) -> list[int]:
        """Selected team members in host order (by the order number, then as listed)."""
        chosen = []
        for index, row in enumerate(self.hosts):
            if row.form.selected.data and whole_number(row.form.user_id.data, 10) is not None:
                user_id = int(row.form.user_id.data)
                if user_id in self.member_names:
                    chosen.append((row.form.order.data or 1000 + index, index, user_id))
        return [user_id for _, _, user_id in sorted(chosen)]

    def validate_hosts(self, field) -> None:
        if not self.chosen_hosts():
            raise ValidationError(_("Choose at least one participating member."))


# --- Guest booking form ----------------------------------------------------------------------------------------


UPCOMING_CHOICES = [
    SelectChoice("keep", _l("Keep them: the meetings take place as booked, and guests can still cancel them.")),
    SelectChoice("cancel", _l("Cancel them: each guest gets a cancellation e-mail, and Salesforce is updated.")),
]


class ArchiveForm(FlaskForm):
    """Archive a calendar; with upcoming bookings, the person must choose what happens to them."""

    upcoming = RadioField(_l("Its upcoming bookings"), choices=UPCOMING_CHOICES, validators=[Optional()])

    def __init__(self, *args, upcoming_count: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if upcoming_count:
            self.upcoming.validators = [InputRequired(_l("Choose whether to keep or cancel the upcoming bookings."))]


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token."""


def format_slot(start: datetime) -> str:
    return start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_slot(value: str | None) -> datetime | None:
    """A slot value from a form or link, or None when it is not one we could have offered."""
    if not value or len(value) > 40 or not value.isascii() or not value.isprintable():
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC)


class GuestForm(FlaskForm):
    """The fields every booking form has; the calendar's questions are added by booking_form_class."""

    slot = SelectField(_l("Time"), validate_choice=False)
    time_zone = HiddenField()  # the guest cannot fix a hidden field: an unknown zone falls back to the calendar's


def question_field_name(question: Question) -> str:
    return f"q{question.id}"


CHECKBOX_FALSE_VALUES = (False, "false", "False", "", "0", "no", "off")


def question_label(question: Question) -> str:
    """A built-in question's label is stored in English (editor.BUILT_IN_LABELS): shown in the viewer's language
    unless the team wrote its own."""
    return shown_label(question.kind, question.label)


def shown_label(kind: str, label: str) -> str:
    return _(label) if BUILT_IN_LABELS.get(kind) == label else label


def ordered_questions(questions: list[Question]) -> list[Question]:
    """The questions in the calendar's order, except that Japanese asks the family name (姓) before the given
    name (名), as Japanese forms do."""
    if current_language() != "ja":
        return list(questions)
    ordered = list(questions)
    kinds = [question.kind for question in ordered]
    if QuestionKind.FAMILY_NAME in kinds and QuestionKind.GIVEN_NAME in kinds:
        family, given = kinds.index(QuestionKind.FAMILY_NAME), kinds.index(QuestionKind.GIVEN_NAME)
        if given < family:
            ordered[given], ordered[family] = ordered[family], ordered[given]
    return ordered


def booking_form_class(calendar: Calendar, limits: dict[int, int] | None = None) -> type[GuestForm]:
    """limits: question id -> a lower limit the Salesforce mapping needs (the mapped field's length)."""
    limits = limits or {}
    fields = {
        question_field_name(question): _question_field(question, limits.get(question.id))
        for question in calendar.questions
    }
    return type("CalendarBookingForm", (GuestForm,), fields)


def _question_field(question: Question, mapped_limit: int | None = None):
    cap = KIND_MAX_LENGTH[question.kind]
    limit = min(question.max_length or cap, cap, mapped_limit or cap)
    required = [InputRequired(message=_l("This is required.")), visible_content] if question.required else [Optional()]
    # Length sets the input's maxlength; the hint tells the guest before they type more than fits.
    text = [Length(max=limit, message=_("Use at most %(limit)s characters.", limit=limit))]
    description = _("At most %(limit)s characters.", limit=limit) if limit < cap else ""
    label = question_label(question)
    match question.kind:
        case QuestionKind.EMAIL:
            validators = [
                InputRequired(message=_l("Enter your e-mail address.")),
                no_control_characters(),
                salesforce_email,  # before the others, so its reason is the one shown
                *text,
                Email(message=_l("Enter a valid e-mail address, like name@example.com.")),
            ]
            return EmailField(label, filters=[_strip], validators=validators, description=description)
        case QuestionKind.PHONE:
            pattern = Regexp(PHONE_PATTERN, message=_l("Use digits, spaces and + ( ) - . / only."))
            validators = [*required, *text, no_control_characters(), pattern]
            return TelField(label, filters=[_strip], validators=validators, description=description)
        case QuestionKind.LONG_TEXT:
            return TextAreaField(
                label,
                filters=[_strip],
                validators=[*required, *text, no_control_characters(multiline=True)],
                description=description,
            )
        case QuestionKind.SINGLE_SELECT:
            options = [("", _l("Choose…"))] + [(option, option) for option in question.options]
            return SelectField(label, choices=choices(options), validators=required)
        case QuestionKind.CHECKBOX:
            # DataRequired looks at the ticked state: InputRequired would accept a posted "false".
            validators = [DataRequired(message=_l("Tick this box to continue."))] if question.required else []
            return BooleanField(label, validators=validators, false_values=CHECKBOX_FALSE_VALUES)
        case kind if kind in NAME_KINDS:
            filters = [_strip_invisible, _strip]
            validators = [*required, *text, no_control_characters()]
            return StringField(label, filters=filters, validators=validators, description=description)
        case _:
            validators = [*required, *text, no_control_characters()]
            return StringField(label, filters=[_strip], validators=validators, description=description)
