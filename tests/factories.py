"""Factories for the domain objects tests need, and logging a test client in as a user."""

from __future__ import annotations

import itertools
from datetime import time

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.models import (
    AvailabilityRange,
    Calendar,
    CalendarHost,
    Membership,
    NameFormat,
    Plan,
    Question,
    QuestionKind,
    Role,
    Team,
    User,
)

_counter = itertools.count(1)


class Factory:
    """Creates committed-in-the-test-transaction objects with sensible defaults."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def user(
        self, email: str | None = None, name: str = "Test User", *, verified: bool = True, staff: bool = False
    ) -> User:
        n = next(_counter)
        user = User(
            email=(email or f"user{n}@example.test").lower(), name=name, email_verified=verified, is_staff=staff
        )
        self.session.add(user)
        self.session.flush()
        return user

    def team(self, name: str | None = None, plan: Plan = Plan.PREMIUM) -> Team:
        team = Team(name=name or f"Team {next(_counter)}", plan=plan)
        self.session.add(team)
        self.session.flush()
        return team

    def member(self, team: Team, role: Role = Role.MEMBER, user: User | None = None, **user_fields) -> User:
        user = user or self.user(**user_fields)
        self.session.add(Membership(team_id=team.id, user_id=user.id, role=role))
        if user.current_team_id is None:
            user.current_team_id = team.id
        self.session.flush()
        return user

    def team_with_roles(self, plan: Plan = Plan.PREMIUM) -> tuple[Team, dict[Role, User]]:
        team = self.team(plan=plan)
        return team, {role: self.member(team, role) for role in Role}

    def calendar(
        self,
        team: Team,
        *,
        created_by: User | None = None,
        hosts: list[User] | None = None,
        name_format: NameFormat = NameFormat.FULL,
        **fields,
    ) -> Calendar:
        n = next(_counter)
        defaults = dict(
            name=f"Calendar {n}",
            private_name=f"Private {n}",
            slug=f"cal-{n}-{team.id}",
            duration_minutes=30,
            time_zone="UTC",
            buffer_minutes=0,
            min_notice_minutes=0,
            window_days=30,
            meeting_url="https://meet.example.com/room",
        )
        defaults.update(fields)
        calendar = Calendar(
            team_id=team.id, created_by_id=created_by.id if created_by else None, name_format=name_format, **defaults
        )
        host_users = hosts if hosts is not None else ([created_by] if created_by else [])
        calendar.hosts = [CalendarHost(user_id=user.id, position=i) for i, user in enumerate(host_users)]
        calendar.availability = [
            AvailabilityRange(weekday=day, start_time=time(9), end_time=time(17)) for day in range(7)
        ]
        calendar.questions = default_questions(name_format)
        self.session.add(calendar)
        self.session.flush()
        return calendar


def default_questions(name_format: NameFormat = NameFormat.FULL) -> list[Question]:
    if name_format == NameFormat.FULL:
        names = [Question(kind=QuestionKind.FULL_NAME, label="Name", required=True, max_length=80)]
    else:
        names = [
            Question(kind=QuestionKind.FAMILY_NAME, label="Family name", required=True, max_length=40),
            Question(kind=QuestionKind.GIVEN_NAME, label="Given name", required=True, max_length=40),
        ]
    others = [
        Question(kind=QuestionKind.EMAIL, label="E-mail", required=True, max_length=80),
        Question(kind=QuestionKind.COMPANY, label="Company", required=False, max_length=80),
        Question(kind=QuestionKind.PHONE, label="Phone", required=False, max_length=40),
    ]
    questions = names + others
    for position, question in enumerate(questions):
        question.position = position
    return questions


def login(client: FlaskClient, user: User) -> FlaskClient:
    """Put the user in the test client's session the way Flask-Login's login_user would."""
    app: Flask = client.application
    # Session protection is "strong": the identifier must hash the client's own address and User-Agent.
    with app.test_request_context(environ_base=client.environ_base):
        identifier = app.login_manager._session_identifier_generator()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_session_version"] = user.session_version or 0  # as portal.access stores it at login
        session["_fresh"] = True
        session["_id"] = identifier
    return client
