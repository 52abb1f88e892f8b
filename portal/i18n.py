"""Languages: which one each viewer reads, and dates, times and names shown the way that language writes them.

Who reads which language: a signed-in person's own setting (users.locale); otherwise the language a guest picked
with the switch on the booking and manage pages (kept in the session); otherwise the browser's Accept-Language;
otherwise English. E-mails are written in their recipient's language (`in_language`): a guest's in the language
stored on the booking, a team member's in their own setting.

Dates and times always go through Babel's locale formats (2026年12月3日(木) 10:00 in Japanese), never a hand-made
strftime pattern (tests/test_i18n_catalog.py searches for them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from functools import cache, lru_cache, partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.core import get_global
from babel.dates import format_date, format_time, get_timezone_name
from flask import Flask, has_request_context, request, session, url_for
from flask_babel import Babel, force_locale, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .models import Plan, Role
from .planner.names import writes_family_first
from .planner.words import N_, Said  # N_ re-exported: English kept as is, translated where shown

# The languages the product is translated into, each named in its own language (the switch shows these).
LANGUAGES = {"en": "English", "ja": "日本語"}
DEFAULT_LANGUAGE = "en"
GUEST_LANGUAGE_KEY = "language"  # the session key holding a guest's pick from the language switch
SWITCH_PARAMETER = "lang"  # ?lang=ja on a page switches a guest's language

# Babel skeletons per kind of moment; Babel turns each into the locale's own pattern (ja: 2026年12月3日(木) 10:00).
DAY_SKELETON = "yMMMEd"
DAY_NO_YEAR_SKELETON = "MMMEd"
SHORT_DAY_SKELETON = "MMMd"
HOURS_MINUTES = "Hm"  # 24-hour clock in every language we offer


__all__ = ["N_", "Said"]


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=select_language)
    app.before_request(_remember_switch)
    for name, helper in {
        "format_day": format_day,
        "format_moment": format_moment,
        "format_range": format_range,
        "format_clock": format_clock,
        "format_short_day": format_short_day,
        "person_name": person_name,
        "current_language": current_language,
        "language_switch_url": language_switch_url,
        "role_label": role_label,
        "plan_label": plan_label,
        "status_label": status_label,
    }.items():
        app.add_template_global(helper, name)
    app.add_template_global(LANGUAGES, "LANGUAGES")
    app.add_template_filter(translated, "translated")


def select_language() -> str:
    """The viewer's language (Flask-Babel's locale selector); English outside a request (commands, workers), where
    e-mails choose their recipient's language with `in_language`."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    picked = session.get(GUEST_LANGUAGE_KEY)
    if picked in LANGUAGES:
        return picked
    return browser_language()


def browser_language() -> str:
    """The best of our languages for the request's Accept-Language, else English."""
    return request.accept_languages.best_match(LANGUAGES.keys(), default=DEFAULT_LANGUAGE)


def _remember_switch() -> None:
    """?lang=xx (the switch on guest pages) keeps the guest's pick for the rest of the visit; unknown values are
    ignored."""
    picked = request.args.get(SWITCH_PARAMETER)
    if picked in LANGUAGES:
        session[GUEST_LANGUAGE_KEY] = picked


def language_switch_url(code: str) -> str:
    """This page's address with the language switch set to `code`."""
    args = request.args.to_dict()
    args[SWITCH_PARAMETER] = code
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else DEFAULT_LANGUAGE


def known_language(code: str | None) -> str:
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


@contextmanager
def in_language(code: str | None) -> Iterator[None]:
    """Write something (an e-mail) in the given person's language whatever the current request's language is."""
    with force_locale(known_language(code)):
        yield


def _zone(zone_name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(zone_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _locale() -> Locale:
    return get_locale() or Locale.parse(DEFAULT_LANGUAGE)


def format_day(day: date | datetime, zone_name: str | None = None, year: bool = True) -> str:
    """A day with its weekday: Thursday, December 3, 2026 / 2026年12月3日(木)."""
    if isinstance(day, datetime):
        day = day.astimezone(_zone(zone_name)).date()
    return _day_text(str(_locale()), day, DAY_SKELETON if year else DAY_NO_YEAR_SKELETON)


def format_short_day(day: date) -> str:
    """A day without weekday or year: Dec 3 / 12月3日."""
    return _day_text(str(_locale()), day, SHORT_DAY_SKELETON)


def format_clock(moment: datetime, zone_name: str | None = None) -> str:
    """A time of day on the 24-hour clock: 10:00."""
    local = moment.astimezone(_zone(zone_name))
    return _clock_text(str(_locale()), local.hour, local.minute)


def format_moment(moment: datetime | None, zone_name: str | None = None, show_zone: bool = True) -> str:
    """A day and time in a time zone: 2026年12月3日(木) 10:00 (Asia/Tokyo)."""
    return _moment_text(str(_locale()), moment, zone_name, show_zone)


def moment_formatter() -> Callable[[datetime | None, str | None], str]:
    """format_moment in the request's language, looked up once: for lists that show many moments (each look-up of
    the request's locale goes through Flask's context locals)."""
    return partial(_moment_text, str(_locale()))


def _moment_text(language: str, moment: datetime | None, zone_name: str | None, show_zone: bool = True) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(_zone(zone_name))
    day = _day_text(language, local.date(), DAY_SKELETON)  # the day in that zone, not UTC's
    text = f"{day} {_clock_text(language, local.hour, local.minute)}"
    return f"{text} ({_zone_label(zone_name)})" if show_zone else text


# Babel parses and applies a pattern on every call; lists of syncs and slots format the same few days and times
# over and over, so each text is kept per language (a day's text depends on nothing else; the 24-hour clock's
# pattern has no zone or date fields, so its text depends only on the hour and minute).
@lru_cache(maxsize=4096)
def _day_text(language: str, day: date, skeleton: str) -> str:
    locale = Locale.parse(language)
    return format_date(day, format=locale.datetime_skeletons[skeleton].pattern, locale=locale)


@lru_cache(maxsize=2 * 24 * 60 * len(LANGUAGES))
def _clock_text(language: str, hour: int, minute: int) -> str:
    locale = Locale.parse(language)
    return format_time(time(hour, minute), format=locale.datetime_skeletons[HOURS_MINUTES].pattern, locale=locale)


def format_range(start: datetime, end: datetime, zone_name: str | None = None, show_zone: bool = True) -> str:
    """A meeting's span: 2026年12月3日(木) 10:00–10:30 (Asia/Tokyo)."""
    text = f"{format_moment(start, zone_name, show_zone=False)}–{format_clock(end, zone_name)}"
    return f"{text} ({_zone_label(zone_name)})" if show_zone else text


def _zone_label(zone_name: str | None) -> str:
    return zone_name or "UTC"


def zone_display_name(zone_name: str) -> str:
    return get_timezone_name(_zone(zone_name), locale=_locale())


def first_weekday() -> int:
    """The day a week starts on where the viewer's language is mostly spoken (0 = Monday … 6 = Sunday):
    Sunday for Japanese (ja_JP) and English (en_US)."""
    return _first_weekday(_locale().language)


@cache
def _first_weekday(language: str) -> int:
    likely = get_global("likely_subtags").get(language, language)
    return Locale.parse(likely).first_week_day


def person_name(family: str, given: str, fallback: str = "") -> str:
    """A name from its parts, family name first when the viewer reads Japanese or the name is written in a script
    that puts the family first (design §1 "Names"): 山田 太郎, Taro Yamada in English; `fallback` (a full name typed
    in one box) when there are no parts."""
    if not (family or given):
        return fallback
    family_first = current_language() == "ja" or writes_family_first(family + given)
    parts = (family, given) if family_first else (given, family)
    return " ".join(part for part in parts if part)


ROLE_LABELS = {
    Role.OWNER: _l("Owner"),
    Role.ADMIN: _l("Admin"),
    Role.ADMIN_ASSISTANT: _l("Admin assistant"),
    Role.MEMBER: _l("Member"),
}
PLAN_LABELS = {Plan.FREE: _l("Free plan"), Plan.STANDARD: _l("Standard plan"), Plan.PREMIUM: _l("Premium plan")}


def role_label(role: Role) -> str:
    return str(ROLE_LABELS[role])


def plan_label(plan: Plan) -> str:
    return str(PLAN_LABELS[plan])


# Booking and sync states as people read them (the stored values stay English words for the code).
STATUS_LABELS = {
    "confirmed": _l("Confirmed"),
    "cancelled": _l("Cancelled"),
    "pending": _l("Queued"),
    "running": _l("Running"),
    "synced": _l("Synced"),
    "skipped": _l("Skipped"),
    "waiting": _l("Waiting"),
    "failed": _l("Failed"),
    "dismissed": _l("Dismissed"),
    "retrying": _l("Retrying"),
    "created": _l("Booked"),
    "rescheduled": _l("Rescheduled"),
}


def status_label(value: str) -> str:
    """A state's label in the viewer's language; an unknown value is shown as it is."""
    value = getattr(value, "value", value)
    return str(STATUS_LABELS.get(value, value))


def translated(text: str) -> str:
    """Text the planner said (planner.words.Said) in the viewer's language, its values translated too; English as
    the planner wrote it, and any other text as it is."""
    if not isinstance(text, Said) or current_language() == DEFAULT_LANGUAGE:
        return str(text)
    return gettext(text.message) % {name: translated(value) for name, value in text.values.items()}
