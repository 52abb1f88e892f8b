"""Finding 5 of the hardening review: logging out, being removed from a team and having one's role changed end
the person's existing sessions on the server, so a copied session cookie stops working."""

from __future__ import annotations

import pytest

from portal.models import Role

from .booking_support import csrf_token
from .factories import login


@pytest.fixture
def roles(factory):
    team, users = factory.team_with_roles()
    factory.session.commit()
    return team, users


def copy_of_session(app, client):
    """A second browser holding the same session cookie, as someone who copied it would."""
    other = app.test_client()
    other.set_cookie(app.config.get("SESSION_COOKIE_NAME", "session"), client.get_cookie("session").value)
    return other


def signed_in(client) -> bool:
    response = client.get("/dashboard")
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def test_a_session_cookie_copied_before_logout_is_refused_after_it(app, client, roles):
    _, users = roles
    login(client, users[Role.MEMBER])
    copied = copy_of_session(app, client)
    assert signed_in(copied)

    token = csrf_token(client.get("/dashboard").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302

    assert not signed_in(copied)
    assert not signed_in(client)


def test_logging_in_again_after_logout_works(app, client, roles):
    _, users = roles
    login(client, users[Role.MEMBER])
    token = csrf_token(client.get("/dashboard").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    login(client, users[Role.MEMBER])
    assert signed_in(client)


@pytest.mark.parametrize("action", ["remove", "role"])
def test_removing_a_member_or_changing_their_role_ends_their_sessions(app, client, roles, action):
    team, users = roles
    member = users[Role.MEMBER]
    member_browser = login(app.test_client(), member)
    assert signed_in(member_browser)

    login(client, users[Role.OWNER])
    token = csrf_token(client.get(f"/teams/{team.id}/settings/members").get_data(as_text=True))
    path = f"/teams/{team.id}/settings/members/{member.id}/{action}"
    response = client.post(path, data={"csrf_token": token, "role": Role.ADMIN.value})
    assert response.status_code == 302

    assert not signed_in(member_browser)
    assert signed_in(client)  # the owner who acted keeps their own session


def test_an_owner_changing_their_own_role_stays_signed_in(client, factory, roles):
    team, users = roles
    factory.member(team, role=Role.OWNER)  # another owner, so this one may step down
    factory.session.commit()
    owner = users[Role.OWNER]
    login(client, owner)
    token = csrf_token(client.get(f"/teams/{team.id}/settings/members").get_data(as_text=True))
    response = client.post(
        f"/teams/{team.id}/settings/members/{owner.id}/role", data={"csrf_token": token, "role": Role.ADMIN.value}
    )
    assert response.status_code == 302
    assert signed_in(client)
