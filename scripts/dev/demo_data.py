"""Demo data: a premium team with an owner, an admin, an admin assistant and a member, and a calendar.

`python -m scripts.dev.demo_data` seeds the database DATABASE_URL names (idempotent); the demo launcher runs it.
"""

from __future__ import annotations

from datetime import time

from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    AvailabilityRange,
    Calendar,
    CalendarHost,
    Membership,
    Plan,
    Question,
    QuestionKind,
    Role,
    Team,
    User,
)

DEMO_TEAM = "Acme Sales"
DEMO_PEOPLE = [
    ("owner@acme.test", "Olivia Owner", Role.OWNER),
    ("admin@acme.test", "Adam Admin", Role.ADMIN),
    ("assistant@acme.test", "Asha Assistant", Role.ADMIN_ASSISTANT),
    ("member@acme.test", "Max Member", Role.MEMBER),
]


def seed() -> list[str]:
    team = db.session.scalar(select(Team).where(Team.name == DEMO_TEAM, Team.is_personal.is_(False)))
    if team is None:
        team = Team(name=DEMO_TEAM, plan=Plan.PREMIUM)
        db.session.add(team)
        db.session.flush()
    users = [_member(team, email, name, role) for email, name, role in DEMO_PEOPLE]
    calendar = _calendar(team, owner=users[0], host=users[3])
    db.session.commit()
    lines = [f"Demo team: {team.name} (id {team.id}, premium)"]
    lines += [f"  {role.label:<16} {email}" for email, _, role in DEMO_PEOPLE]
    lines.append(f"Demo calendar: /book/{calendar.slug}")
    return lines


def _member(team: Team, email: str, name: str, role: Role) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name, email_verified=True, current_team_id=team.id)
        db.session.add(user)
        db.session.flush()
    membership = db.session.scalar(
        select(Membership).where(Membership.team_id == team.id, Membership.user_id == user.id)
    )
    if membership is None:
        db.session.add(Membership(team_id=team.id, user_id=user.id, role=role))
    return user


def _calendar(team: Team, owner: User, host: User) -> Calendar:
    calendar = db.session.scalar(select(Calendar).where(Calendar.slug == "acme-intro"))
    if calendar is not None:
        return calendar
    calendar = Calendar(
        team_id=team.id,
        created_by_id=owner.id,
        name="Introductory call",
        private_name="Inbound intro (sales)",
        slug="acme-intro",
        duration_minutes=30,
        time_zone="Asia/Tokyo",
        buffer_minutes=10,
        min_notice_minutes=60,
        window_days=30,
        meeting_url="https://meet.example.com/acme-intro",
    )
    calendar.hosts = [CalendarHost(user_id=host.id, position=0), CalendarHost(user_id=owner.id, position=1)]
    calendar.availability = [
        AvailabilityRange(weekday=day, start_time=time(9), end_time=time(12)) for day in range(5)
    ] + [AvailabilityRange(weekday=day, start_time=time(13), end_time=time(18)) for day in range(5)]
    calendar.questions = [
        Question(kind=QuestionKind.FULL_NAME, label="Name", required=True, max_length=80, position=0),
        Question(kind=QuestionKind.EMAIL, label="E-mail", required=True, max_length=80, position=1),
        Question(kind=QuestionKind.COMPANY, label="Company", required=True, max_length=80, position=2),
        Question(kind=QuestionKind.PHONE, label="Phone", required=False, max_length=40, position=3),
        Question(
            kind=QuestionKind.LONG_TEXT,
            label="What would you like to discuss?",
            required=False,
            max_length=2000,
            position=4,
        ),
    ]
    db.session.add(calendar)
    return calendar


def main() -> None:
    from portal import create_app

    with create_app().app_context():
        for line in seed():
            print(line)


if __name__ == "__main__":
    main()
