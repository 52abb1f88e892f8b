"""Guest pages: the public booking page (/book/<slug>) and the private manage link (/manage/<token>).

No login here; booking and manage requests are rate-limited per client, and every input is validated.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import bindparam, func, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..i18n import current_language, first_weekday, format_range
from ..integrations.service import booking_form_limits
from ..links import public_url
from ..models import (
    Booking,
    BookingStatus,
    Calendar,
    CalendarHost,
    HostBookingVersion,
    NameFormat,
    QuestionKind,
    utcnow,
)
from ..ratelimit import rate_limited
from . import booking as service
from . import forms
from .forms import booking_form_class, format_slot, parse_slot, question_field_name, time_zone_options
from .mail import send_booking_mail
from .slots import Refusal, Slot, SlotRefused, group_by_local_day, is_time_zone
from .week_cache import expires_at, week_cache

bp = Blueprint("booking", __name__)

DAYS_SHOWN = 7
REFUSALS = {
    Refusal.PAST: _l("That time has already passed. Please pick another time."),
    Refusal.TOO_SOON: _l("That time is too soon to book. Please pick a later time."),
    Refusal.BEYOND_WINDOW: _l("That time is too far ahead to book yet. Please pick an earlier time."),
    Refusal.OUTSIDE_AVAILABILITY: _l("That time is not offered by this calendar. Please pick a time from the list."),
    Refusal.TAKEN: _l("That time was just taken. Please pick another time."),
}
NOT_A_SLOT = _l("That is not a time we offer. Please pick a time from the list.")
NO_LONGER_AVAILABLE = _l("This booking page is no longer available: the meeting is not offered any more.")
OUT_OF_RANGE = _l("That date is outside the dates we can show. Please go back and pick a time from the list.")
# The calendar's host ids in order and the sum of their booking versions, in one row whatever the number of hosts
# (loading the hosts eagerly beside the weekly ranges would return hosts × ranges rows). The sum grows with any
# change of the hosts' bookings: a trigger bumps their versions (portal.models.HostBookingVersion).
HOSTS = (
    select(
        func.array_agg(aggregate_order_by(CalendarHost.user_id, CalendarHost.position)).label("ids"),
        func.coalesce(func.sum(HostBookingVersion.version), 0).label("versions"),
    )
    .outerjoin(HostBookingVersion, HostBookingVersion.user_id == CalendarHost.user_id)
    .where(CalendarHost.calendar_id == Calendar.id)
    .lateral("hosts")
)
# Built once: SQLAlchemy memoizes a statement's cache key on the statement, which a new one per request recomputes.
BOOKING_PAGE_ROW = (
    select(Calendar, HOSTS.c.ids, HOSTS.c.versions)
    .join(HOSTS, true())
    .where(Calendar.slug == bindparam("slug"))
    .options(joinedload(Calendar.availability))
)
SLOT_PLACEHOLDER = "slot=~"  # where a slot link's own value goes (no slug, zone or slot value contains "~")
# Dates a guest can reach lie well inside these; beyond them date arithmetic overflows (a server error otherwise).
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2999, 12, 31)


# --- Booking -------------------------------------------------------------------------------------------------


@bp.get("/book/<slug>")
def calendar_page(slug: str):
    # One statement loads the calendar with its hosts, weekly ranges and the hosts' booking versions. A page every
    # guest would see the same comes from the process's cache while those versions are unchanged; otherwise
    # open_slots adds the hosts' busy times.
    _reads_without_a_transaction()
    calendar, hosts, versions = _booking_page_row(slug)
    zone_name = _guest_zone(calendar)
    first_day, days = _days_shown(zone_name)
    now, cache = utcnow(), week_cache(current_app)
    key = _page_key(calendar, hosts, versions, zone_name, first_day) if _same_for_every_guest() else None
    page = cache.get(key, now) if key else None
    if page is None:
        slots = service.open_slots(calendar, now, between=_day_bounds(first_day, zone_name, days), hosts=hosts)
        page = render_template(
            "booking/calendar.html",
            calendar=calendar,
            zone_name=zone_name,
            zone_options=time_zone_options(zone_name),
            **_week_listing(calendar, slots, zone_name, first_day, days, hosts=hosts),
            slot_url=_slot_links("booking.confirm", zone_name, slug=slug),
            week_url=_week_links("booking.calendar_page", zone_name, slug=slug),
        )
        if key:
            cache.put(key, page, now, expires_at(now, slots, timedelta(minutes=calendar.min_notice_minutes), zone_name))
    return page


def _reads_without_a_transaction() -> None:
    """The page only reads, and each statement sees its own snapshot under READ COMMITTED anyway: autocommit saves
    the BEGIN and ROLLBACK round trips. Not when the session is bound to a connection already in a transaction (the
    tests' rollback-per-test one), whose isolation cannot change."""
    orm = db.session()
    if orm.bind is None and not orm.in_transaction():
        orm.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _same_for_every_guest() -> bool:
    """No signed-in viewer (their navigation) and no message waiting in the session: the page then depends only on
    the calendar, its hosts' bookings, the address asked for, the language and the clock."""
    return not current_user.is_authenticated and "_flashes" not in session


def _page_key(calendar: Calendar, hosts: tuple[int, ...], versions: int, zone_name: str, first_day: date) -> tuple:
    """Everything the page shows or depends on besides the clock (which expires_at accounts for)."""
    shown = (calendar.id, calendar.updated_at, calendar.name, calendar.meeting_url)
    asked = (request.script_root, request.path, request.query_string, current_language(), zone_name, first_day)
    return shown + (service.calendar_rules(calendar), hosts, versions) + asked


@bp.route("/book/<slug>/confirm", methods=["GET", "POST"])
@rate_limited("booking", "RATE_LIMIT_BOOKING")
def confirm(slug: str):
    calendar = _calendar_by_slug(slug)
    form = booking_form_class(calendar, booking_form_limits(calendar))()
    if request.method == "GET":
        form.slot.data = request.args.get("slot", "")
        form.time_zone.data = _guest_zone(calendar)
    zone_name = form.time_zone.data if is_time_zone(form.time_zone.data or "") else calendar.time_zone
    form.time_zone.data = zone_name
    start = _slot_in_range(form.slot.data)
    status = 200
    if request.method == "POST":
        booked, status = _book_from_form(calendar, form, start, zone_name)
        if booked is not None:
            return booked
    elif start is None:
        _add_error(form.slot, NOT_A_SLOT)
    choices = [(format_slot(slot.start), label) for slot, label in _slot_choices(calendar, utcnow(), zone_name, start)]
    form.slot.choices = forms.choices([("", _("Choose a time…")), *choices])
    if request.method == "GET" and start is not None and form.slot.data not in dict(choices):
        _add_error(form.slot, _("That time is no longer available. Please pick another time."))
    return (
        render_template(
            "booking/confirm.html",
            calendar=calendar,
            form=form,
            zone_name=zone_name,
            question_fields=[form[question_field_name(q)] for q in forms.ordered_questions(calendar.questions)],
            change_url=url_for("booking.calendar_page", slug=slug, tz=zone_name),
        ),
        status,
    )


def _book_from_form(calendar: Calendar, form, start: datetime | None, zone_name: str):
    """(redirect to the new booking's page, 302) or (None, status) with the errors put on the form."""
    valid = form.validate()
    if start is None:
        _add_error(form.slot, NOT_A_SLOT)
        return None, 422
    if not valid:
        return None, 422
    token = service.new_manage_token()
    try:
        booking = service.book(calendar, start, _guest_details(calendar, form, zone_name), token, now=utcnow())
    except SlotRefused as refused:
        _add_error(form.slot, REFUSALS[refused.refusal])
        return None, 409 if refused.refusal == Refusal.TAKEN else 422
    except service.CalendarArchived:
        _no_longer_available()  # archived while the guest filled in the form
    _mail_guest(booking, token, "confirmed")
    return redirect(url_for("booking.manage", token=token)), 302


# --- Manage link ---------------------------------------------------------------------------------------------


@bp.get("/manage/<token>")
@rate_limited("manage", "RATE_LIMIT_MANAGE", methods=("GET", "POST"))
def manage(token: str):
    booking = _booking_by_token(token)
    return render_template(
        "booking/manage.html", booking=booking, token=token, when=_when(booking), is_open=_is_open(booking)
    )


@bp.get("/manage/<token>/reschedule")
@rate_limited("manage", "RATE_LIMIT_MANAGE", methods=("GET", "POST"))
def reschedule_slots(token: str):
    booking = _open_booking_or_redirect(token)
    if not isinstance(booking, Booking):
        return booking
    calendar = booking.calendar
    zone_name = _guest_zone(calendar, default=booking.guest_time_zone)
    first_day, days = _days_shown(zone_name)
    slots = service.open_slots(
        calendar, utcnow(), between=_day_bounds(first_day, zone_name, days), ignore_booking_id=booking.id
    )
    return render_template(
        "booking/reschedule.html",
        booking=booking,
        calendar=calendar,
        token=token,
        zone_name=zone_name,
        zone_options=time_zone_options(zone_name),
        when=_when(booking),
        **_week_listing(calendar, slots, zone_name, first_day, days, ignore_booking_id=booking.id),
        slot_url=_slot_links("booking.reschedule", zone_name, token=token),
        week_url=_week_links("booking.reschedule_slots", zone_name, token=token),
    )


@bp.route("/manage/<token>/reschedule/confirm", methods=["GET", "POST"])
@rate_limited("manage", "RATE_LIMIT_MANAGE", methods=("GET", "POST"))
def reschedule(token: str):
    booking = _open_booking_or_redirect(token)
    if not isinstance(booking, Booking):
        return booking
    calendar = booking.calendar
    source = request.form if request.method == "POST" else request.args
    zone_name = source.get("tz", "") if is_time_zone(source.get("tz", "")) else booking.guest_time_zone
    start = _slot_in_range(source.get("slot"))
    error, status = None, 200
    if start is None:
        error, status = NOT_A_SLOT, 422
    elif request.method == "POST":
        try:
            service.reschedule(booking, start, now=utcnow(), language=current_language())
        except SlotRefused as refused:
            error = REFUSALS[refused.refusal]
            status = 409 if refused.refusal == Refusal.TAKEN else 422
        except service.BookingClosed as closed:
            error, status = str(closed), 409
        else:
            _mail_guest(booking, token, "rescheduled")
            flash(_("Your booking has been moved."), "success")
            return redirect(url_for("booking.manage", token=token))
    return (
        render_template(
            "booking/reschedule_confirm.html",
            booking=booking,
            token=token,
            zone_name=zone_name,
            slot_value=format_slot(start) if start else "",
            new_when=format_range(start, start + timedelta(minutes=calendar.duration_minutes), zone_name)
            if start
            else "",
            when=_when(booking),
            error=error,
            back_url=url_for("booking.reschedule_slots", token=token, tz=zone_name),
        ),
        status,
    )


@bp.route("/manage/<token>/cancel", methods=["GET", "POST"])
@rate_limited("manage", "RATE_LIMIT_MANAGE", methods=("GET", "POST"))
def cancel(token: str):
    booking = _open_booking_or_redirect(token)
    if not isinstance(booking, Booking):
        return booking
    if request.method == "POST":
        try:
            service.cancel(booking, now=utcnow(), language=current_language())
        except service.BookingClosed as closed:
            flash(str(closed), "error")
        else:
            _mail_guest(booking, token, "cancelled")
            flash(_("Your booking has been cancelled."), "success")
        return redirect(url_for("booking.manage", token=token))
    return render_template("booking/cancel.html", booking=booking, token=token, when=_when(booking))


# --- Helpers -------------------------------------------------------------------------------------------------


def _calendar_by_slug(slug: str, *options) -> Calendar:
    statement = select(Calendar).where(Calendar.slug == slug).options(*options)
    return _bookable(db.session.execute(statement).unique().scalar() if len(slug) <= 80 else None)


def _booking_page_row(slug: str) -> tuple[Calendar, tuple[int, ...], int]:
    """The calendar with its weekly ranges, its host ids in order and the sum of their booking versions."""
    row = db.session.execute(BOOKING_PAGE_ROW, {"slug": slug}).unique().first() if len(slug) <= 80 else None
    calendar = _bookable(row[0] if row else None)
    return calendar, tuple(row.ids or ()), row.versions


def _bookable(calendar: Calendar | None) -> Calendar:
    if calendar is None:
        abort(404, description=_("There is no booking page at this address. Check the link you were given."))
    if calendar.archived_at is not None:
        _no_longer_available()
    return calendar


def _slot_links(endpoint: str, zone_name: str, **values) -> Callable[[Slot], str]:
    """Each slot's link, from one url_for: the links differ only in the slot value, which needs no quoting."""
    prefix, _, suffix = url_for(endpoint, slot="~", tz=zone_name, **values).partition(SLOT_PLACEHOLDER)
    return lambda slot: f"{prefix}slot={format_slot(slot.start)}{suffix}"


def _week_links(endpoint: str, zone_name: str, **values) -> Callable[[date], str]:
    return lambda day: url_for(endpoint, tz=zone_name, week=day.isoformat(), **values)


def _no_longer_available():
    abort(404, description=NO_LONGER_AVAILABLE)


def _booking_by_token(token: str) -> Booking:
    booking = service.booking_for_token(token) if len(token) <= 100 else None
    if booking is None:
        abort(404, description=_("This booking link is not valid. Check the link in your confirmation e-mail."))
    return booking


def _open_booking_or_redirect(token: str):
    """The booking when it can still be changed, else a redirect to its page with the reason."""
    booking = _booking_by_token(token)
    if not _is_open(booking):
        flash(_("This booking can no longer be changed."), "warning")
        return redirect(url_for("booking.manage", token=token))
    return booking


def _add_error(field, message: str) -> None:
    field.errors = [*field.errors, message]  # a field's errors are a tuple until it has been validated


def _is_open(booking: Booking) -> bool:
    return booking.status == BookingStatus.CONFIRMED and booking.start_at > utcnow()


def _guest_zone(calendar: Calendar, default: str | None = None) -> str:
    requested = request.args.get("tz", "")
    return requested if is_time_zone(requested) else (default or calendar.time_zone)


def _days_shown(zone_name: str) -> tuple[date, int]:
    """The first day shown and how many: the week holding the asked-for day (today by default), starting on the day
    the viewer's language starts a week (Sunday for Japanese and American English), without the days already past."""
    today = utcnow().astimezone(ZoneInfo(zone_name)).date()
    try:
        asked = date.fromisoformat(request.args.get("week", ""))
    except ValueError:
        asked = today
    if not EARLIEST_DAY <= asked <= LATEST_DAY:
        abort(400, description=OUT_OF_RANGE)
    week_start = asked - timedelta(days=(asked.weekday() - first_weekday()) % DAYS_SHOWN)
    first = max(week_start, today)
    return first, (week_start + timedelta(days=DAYS_SHOWN) - first).days


def _slot_in_range(value: str | None) -> datetime | None:
    """The slot asked for (None when it is not one); a date no guest could reach is refused with a 400 page."""
    start = parse_slot(value)
    if start is not None and not EARLIEST_DAY <= start.date() <= LATEST_DAY:
        abort(400, description=OUT_OF_RANGE)
    return start


def _day_bounds(first_day: date, zone_name: str, days: int = DAYS_SHOWN) -> tuple[datetime, datetime]:
    zone = ZoneInfo(zone_name)
    start = datetime.combine(first_day, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(first_day + timedelta(days=days), time(), tzinfo=zone).astimezone(UTC)
    return start, end


def _week_listing(calendar, slots, zone_name, first_day, days, *, ignore_booking_id=None, hosts=None) -> dict:
    """The slot list of the days shown, with links to the weeks around it and the next free day if empty."""
    today = utcnow().astimezone(ZoneInfo(zone_name)).date()
    last_day = (utcnow() + timedelta(days=calendar.window_days)).astimezone(ZoneInfo(zone_name)).date()
    next_first = first_day + timedelta(days=days)
    next_available = None
    if not slots:
        later = service.open_slots(
            calendar,
            utcnow(),
            between=(_day_bounds(first_day, zone_name, days)[1], utcnow() + timedelta(days=800)),
            ignore_booking_id=ignore_booking_id,
            hosts=hosts,
        )
        if later:
            next_available = later[0].start.astimezone(ZoneInfo(zone_name)).date()
    return {
        "days": group_by_local_day(slots, zone_name),
        "first_day": first_day,
        "last_shown": next_first - timedelta(days=1),
        "previous_week": max(first_day - timedelta(days=DAYS_SHOWN), today) if first_day > today else None,
        "next_week": next_first if next_first <= last_day else None,
        "next_available": next_available,
    }


def _slot_choices(calendar: Calendar, now: datetime, zone_name: str, around: datetime | None):
    """Fresh choices for the form's time select: the chosen day's free slots (guest's time zone), or the next."""
    zone = ZoneInfo(zone_name)
    if around is not None:
        day = around.astimezone(zone).date()
        slots = service.open_slots(calendar, now, between=_day_bounds(day, zone_name, days=1))
    else:
        slots = []
    if not slots:
        slots = service.open_slots(calendar, now, between=(now, now + timedelta(days=DAYS_SHOWN)))[:40]
    return [(slot, _slot_label(slot, zone)) for slot in slots]


def _slot_label(slot: Slot, zone: ZoneInfo) -> str:
    return format_range(slot.start, slot.end, zone.key, show_zone=False)


def _when(booking: Booking) -> str:
    return format_range(booking.start_at, booking.end_at, booking.guest_time_zone)


def _guest_details(calendar: Calendar, form, zone_name: str) -> service.GuestDetails:
    answers: dict[str, str] = {}
    by_kind: dict[QuestionKind, str] = {}
    for question in calendar.questions:
        data = form[question_field_name(question)].data
        value = ("yes" if data else "no") if question.kind == QuestionKind.CHECKBOX else (data or "")
        answers[str(question.id)] = value
        by_kind.setdefault(question.kind, value)
    full_name = by_kind.get(QuestionKind.FULL_NAME, "")
    if calendar.name_format == NameFormat.FAMILY_GIVEN:
        full_name = " ".join(
            filter(None, (by_kind.get(QuestionKind.GIVEN_NAME), by_kind.get(QuestionKind.FAMILY_NAME)))
        )
    return service.GuestDetails(
        email=by_kind.get(QuestionKind.EMAIL, ""),
        name=full_name[:200],
        family_name=by_kind.get(QuestionKind.FAMILY_NAME, ""),
        given_name=by_kind.get(QuestionKind.GIVEN_NAME, ""),
        company=by_kind.get(QuestionKind.COMPANY, ""),
        phone=by_kind.get(QuestionKind.PHONE, ""),
        time_zone=zone_name,
        locale=current_language(),
        answers=answers,
    )


def _mail_guest(booking: Booking, token: str, kind: str) -> None:
    manage_url = public_url("booking.manage", token=token)
    if send_booking_mail(booking, manage_url, kind):
        if kind == "confirmed":
            flash(
                _("Your booking is confirmed. We sent the details to %(email)s.", email=booking.guest_email), "success"
            )
    elif kind == "confirmed":
        flash(
            _(
                "Your booking is confirmed, but we could not send the confirmation e-mail. "
                "Keep this page's address: it is your private link to reschedule or cancel."
            ),
            "warning",
        )
