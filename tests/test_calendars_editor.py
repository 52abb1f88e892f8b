"""The calendar editor: who may see and edit which calendars, creating with validation, editing with stable
question ids, duplicating, deleting, and the bookings list."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.calendars import booking as service
from portal.calendars import editor
from portal.extensions import db
from portal.models import AuditEvent, Calendar, NameFormat, QuestionKind, Role, utcnow

from .booking_support import csrf_token, free_slot
from .factories import login


@pytest.fixture
def roles(factory):
    team, users = factory.team_with_roles()
    return team, users


def form_data(page: str, members: list, **overrides) -> dict:
    data = {
        "csrf_token": csrf_token(page),
        "name": "Discovery call",
        "private_name": "Inbound (EMEA)",
        "slug": "discovery-call",
        "duration_minutes": "45",
        "time_zone": "Europe/Berlin",
        "buffer_minutes": "10",
        "min_notice_minutes": "120",
        "window_days": "14",
        "meeting_url": "https://meet.example.com/discovery",
        "monday": "09:00-12:00, 13:00-17:00",
        "tuesday": "09:00-12:00",
        "wednesday": "",
        "thursday": "",
        "friday": "10:00-11:00",
        "saturday": "",
        "sunday": "",
        "name_format": "full",
        "company": "required",
        "phone": "optional",
        "questions-0-kind": "single_select",
        "questions-0-label": "Team size",
        "questions-0-options": "1-10\n11-50\n51+",
        "questions-0-required": "y",
        "questions-1-kind": "short_text",
        "questions-1-label": "",
    }
    for index, (user, order) in enumerate(members):
        data[f"hosts-{index}-user_id"] = str(user.id)
        if order:
            data[f"hosts-{index}-selected"] = "y"
            data[f"hosts-{index}-order"] = str(order)
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def create(client, team, members, **overrides):
    page = client.get(f"/teams/{team.id}/calendars/new").get_data(as_text=True)
    return client.post(f"/teams/{team.id}/calendars/new", data=form_data(page, members, **overrides))


def test_anonymous_visitors_are_sent_to_log_in(client, factory, roles):
    team, users = roles
    calendar = factory.calendar(team, created_by=users[Role.MEMBER])
    for path in (f"/teams/{team.id}/calendars", f"/calendars/{calendar.id}/edit", f"/calendars/{calendar.id}/bookings"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_members_see_their_teams_calendars_and_not_other_teams(client, factory, roles):
    team, users = roles
    mine = factory.calendar(team, created_by=users[Role.OWNER], name="Ours")
    hosted = factory.calendar(team, created_by=users[Role.OWNER], hosts=[users[Role.MEMBER]], name="Hosted")
    other_team = factory.team()
    theirs = factory.calendar(other_team, created_by=factory.member(other_team), name="Theirs")
    login(client, users[Role.MEMBER])
    page = client.get(f"/teams/{team.id}/calendars").get_data(as_text=True)
    assert "Ours" in page and "Hosted" in page and "Theirs" not in page
    assert f"/calendars/{hosted.id}/bookings" in page and f"/calendars/{hosted.id}/edit" in page
    # created and hosted by someone else: listed, but neither its bookings nor its editor are offered
    assert f"/calendars/{mine.id}/bookings" not in page and f"/calendars/{mine.id}/edit" not in page
    for path in (
        f"/teams/{other_team.id}/calendars",
        f"/calendars/{theirs.id}/edit",
        f"/calendars/{theirs.id}/bookings",
    ):
        assert client.get(path).status_code == 404


def test_members_edit_calendars_they_created_or_host_and_editors_edit_all(client, factory, roles):
    team, users = roles
    member = users[Role.MEMBER]
    created = factory.calendar(team, created_by=member, hosts=[users[Role.OWNER]])
    hosted = factory.calendar(team, created_by=users[Role.OWNER], hosts=[member])
    foreign = factory.calendar(team, created_by=users[Role.OWNER])
    login(client, member)
    assert client.get(f"/calendars/{created.id}/edit").status_code == 200
    assert client.get(f"/calendars/{hosted.id}/edit").status_code == 200
    assert client.get(f"/calendars/{foreign.id}/edit").status_code == 403
    assert client.get(f"/calendars/{foreign.id}/delete").status_code == 403
    assert client.get(f"/calendars/{foreign.id}/bookings").status_code == 403  # design §3: not their guests
    for role in (Role.OWNER, Role.ADMIN, Role.ADMIN_ASSISTANT):
        login(client, users[role])
        assert client.get(f"/calendars/{created.id}/edit").status_code == 200


def test_a_member_creates_a_calendar_with_availability_hosts_and_questions(client, roles):
    team, users = roles
    member, owner = users[Role.MEMBER], users[Role.OWNER]
    login(client, member)
    response = create(client, team, [(owner, 2), (member, 1)])
    assert response.status_code == 302, response.get_data(as_text=True)
    calendar = db.session.scalar(select(Calendar).where(Calendar.slug == "discovery-call"))
    assert calendar.created_by_id == member.id and calendar.team_id == team.id
    assert (calendar.duration_minutes, calendar.buffer_minutes, calendar.min_notice_minutes, calendar.window_days) == (
        45,
        10,
        120,
        14,
    )
    assert [(r.weekday, r.start_time, r.end_time) for r in calendar.availability] == [
        (0, time(9), time(12)),
        (0, time(13), time(17)),
        (1, time(9), time(12)),
        (4, time(10), time(11)),
    ]
    assert [h.user_id for h in calendar.hosts] == [member.id, owner.id]  # by the order numbers
    assert [(q.kind, q.required) for q in calendar.questions] == [
        (QuestionKind.FULL_NAME, True),
        (QuestionKind.EMAIL, True),
        (QuestionKind.COMPANY, True),
        (QuestionKind.PHONE, False),
        (QuestionKind.SINGLE_SELECT, True),
    ]
    assert calendar.questions[-1].options == ["1-10", "11-50", "51+"]
    assert (
        db.session.scalar(select(AuditEvent.action).where(AuditEvent.target_id == str(calendar.id)))
        == "calendar.created"
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"monday": "9-12"}, "monday", "is not a range like 09:00-12:00"),
        ({"tuesday": "12:00-09:00"}, "tuesday", "the start must be before the end"),
        ({"friday": "25:00-26:00"}, "friday", "does not exist"),
        ({"slug": "Not a slug!"}, "slug", "lower-case letters"),
        ({"duration_minutes": "2"}, "duration_minutes", "between 5 and 1440"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Choose a time zone"),
        ({"meeting_url": "javascript:alert(1)"}, "meeting_url", "https://"),
        ({"name": "Evil\x00name"}, "name", "control characters"),
        ({"questions-0-options": ""}, "questions-0-options", "needs at least one choice"),
    ],
)
def test_invalid_settings_are_refused_next_to_their_field(client, roles, overrides, field, message):
    team, users = roles
    login(client, users[Role.MEMBER])
    response = create(client, team, [(users[Role.MEMBER], 1)], **overrides)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error = page[page.index(f'id="{field}-error"') :][:300]
    assert message in error
    assert db.session.scalar(select(Calendar).where(Calendar.slug == "discovery-call")) is None


def test_a_calendar_needs_a_host_and_a_free_slug(client, factory, roles):
    team, users = roles
    factory.calendar(team, created_by=users[Role.OWNER], slug="discovery-call")
    login(client, users[Role.MEMBER])
    page = create(client, team, [(users[Role.MEMBER], None)]).get_data(as_text=True)
    assert "Choose at least one participating member" in page
    page = create(client, team, [(users[Role.MEMBER], 1)]).get_data(as_text=True)
    assert "already uses this URL slug" in page


def test_editing_keeps_question_ids_and_follows_the_form_choices(client, factory, roles):
    team, users = roles
    owner = users[Role.OWNER]
    login(client, owner)
    create(client, team, [(owner, 1)])
    calendar = db.session.scalar(select(Calendar).where(Calendar.slug == "discovery-call"))
    email_id = next(q.id for q in calendar.questions if q.kind == QuestionKind.EMAIL)
    select_id = calendar.questions[-1].id
    page = client.get(f"/calendars/{calendar.id}/edit").get_data(as_text=True)
    assert f'value="{select_id}"' in page and "09:00-12:00, 13:00-17:00" in page
    response = client.post(
        f"/calendars/{calendar.id}/edit",
        data=form_data(
            page,
            [(owner, 1)],
            name="Discovery call (new)",
            name_format="family_given",
            phone="off",
            **{
                "questions-0-id": str(select_id),
                "questions-0-label": "How many people?",
                "questions-1-kind": "long_text",
                "questions-1-label": "Anything else?",
                "questions-1-max_length": "500",
            },
        ),
    )
    assert response.status_code == 302
    db.session.expire_all()
    calendar = db.session.get(Calendar, calendar.id)
    assert calendar.name == "Discovery call (new)" and calendar.name_format == NameFormat.FAMILY_GIVEN
    assert [q.kind for q in calendar.questions] == [
        QuestionKind.FAMILY_NAME,
        QuestionKind.GIVEN_NAME,
        QuestionKind.EMAIL,
        QuestionKind.COMPANY,
        QuestionKind.SINGLE_SELECT,
        QuestionKind.LONG_TEXT,
    ]
    assert next(q.id for q in calendar.questions if q.kind == QuestionKind.EMAIL) == email_id
    assert calendar.questions[4].id == select_id and calendar.questions[4].label == "How many people?"
    assert calendar.questions[5].max_length == 500


def test_removing_a_custom_question(client, roles):
    team, users = roles
    owner = users[Role.OWNER]
    login(client, owner)
    create(client, team, [(owner, 1)])
    calendar = db.session.scalar(select(Calendar).where(Calendar.slug == "discovery-call"))
    select_id = calendar.questions[-1].id
    page = client.get(f"/calendars/{calendar.id}/edit").get_data(as_text=True)
    data = form_data(page, [(owner, 1)], **{"questions-0-id": str(select_id), "questions-0-remove": "y"})
    assert client.post(f"/calendars/{calendar.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert select_id not in [q.id for q in db.session.get(Calendar, calendar.id).questions]


def test_duplicate_copies_settings_with_a_new_slug_and_the_duplicator_as_creator(client, factory, roles):
    team, users = roles
    source = factory.calendar(team, created_by=users[Role.OWNER], buffer_minutes=20)
    login(client, users[Role.ADMIN])
    page = client.get(f"/teams/{team.id}/calendars").get_data(as_text=True)
    response = client.post(f"/calendars/{source.id}/duplicate", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    copy = db.session.scalar(select(Calendar).where(Calendar.team_id == team.id, Calendar.id != source.id))
    assert copy.name == f"Copy of {source.name}" and copy.slug != source.slug and copy.slug.startswith(source.slug)
    assert copy.created_by_id == users[Role.ADMIN].id and copy.buffer_minutes == 20
    assert [q.kind for q in copy.questions] == [q.kind for q in source.questions]
    assert {q.id for q in copy.questions}.isdisjoint({q.id for q in source.questions})
    assert len(copy.availability) == len(source.availability) and [h.user_id for h in copy.hosts] == [
        users[Role.OWNER].id
    ]


def test_post_without_csrf_token_is_refused(client, factory, roles):
    team, users = roles
    calendar = factory.calendar(team, created_by=users[Role.MEMBER])
    login(client, users[Role.MEMBER])
    assert client.post(f"/calendars/{calendar.id}/delete").status_code == 400
    assert db.session.get(Calendar, calendar.id) is not None


def test_bookings_list_shows_time_guest_host_and_status_with_markup_escaped(client, factory, roles):
    team, users = roles
    host = users[Role.MEMBER]
    calendar = factory.calendar(team, created_by=host, time_zone="Asia/Tokyo")
    db.session.commit()
    start = free_slot(calendar)
    guest = service.GuestDetails(email="g@example.com", name="<script>alert(1)</script>")
    service.book(calendar, start, guest, "token-1", now=utcnow())
    login(client, users[Role.ADMIN_ASSISTANT])
    page = client.get(f"/calendars/{calendar.id}/bookings").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert host.name in page and "Confirmed" in page and "g@example.com" in page
    assert start.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M") in page


def test_the_edit_page_has_an_advanced_settings_section(client, factory, roles):
    team, users = roles
    calendar = factory.calendar(team, created_by=users[Role.OWNER])
    login(client, users[Role.OWNER])
    page = client.get(f"/calendars/{calendar.id}/edit").get_data(as_text=True)
    assert 'id="advanced-settings"' in page and "Advanced settings" in page


def test_a_slug_taken_between_the_check_and_the_save_is_reported_on_the_field(client, factory, roles, monkeypatch):
    team, users = roles
    factory.calendar(team, created_by=users[Role.OWNER], slug="discovery-call")
    db.session.commit()
    monkeypatch.setattr(editor, "slug_is_free", lambda slug, calendar_id=None: True)  # as if saved concurrently
    login(client, users[Role.MEMBER])
    response = create(client, team, [(users[Role.MEMBER], 1)])
    assert response.status_code == 422 and "already uses this URL slug" in response.get_data(as_text=True)


def test_built_in_questions_limits_are_set_like_custom_ones_and_refused_beyond_their_cap(client, roles):
    team, users = roles
    owner = users[Role.OWNER]
    login(client, owner)
    create(client, team, [(owner, 1)], **{"built_in_limits-full_name": "80", "built_in_limits-company": "60"})
    calendar = db.session.scalar(select(Calendar).where(Calendar.slug == "discovery-call"))
    page = client.get(f"/calendars/{calendar.id}/edit").get_data(as_text=True)

    too_long = client.post(
        f"/calendars/{calendar.id}/edit", data=form_data(page, [(owner, 1)], **{"built_in_limits-email": "321"})
    )

    limits = {q.kind: q.max_length for q in calendar.questions}
    assert limits[QuestionKind.FULL_NAME] == 80 and limits[QuestionKind.COMPANY] == 60
    assert limits[QuestionKind.EMAIL] is None and limits[QuestionKind.PHONE] is None
    assert 'id="built_in_limits-full_name"' in page and 'value="80"' in page
    assert too_long.status_code == 422 and "Use a number from 1 to 320." in too_long.get_data(as_text=True)
