"""Finding 9 of the hardening review: HSTS and Secure cookies whenever the portal is served over https (behind a
TLS proxy too), no caching of pages with personal data, and log files nobody else on the machine can read."""

from __future__ import annotations

import os
import stat

import pytest

from portal.logs import open_log_file
from portal.models import Role

from .booking_support import free_slot, manage_path, post_booking
from .factories import login


@pytest.fixture
def member(factory):
    team = factory.team()
    user = factory.member(team, role=Role.MEMBER)
    factory.session.commit()
    return user


def session_cookie_header(response) -> str:
    (header,) = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    return header


def test_plain_http_in_development_has_no_hsts(app, client):
    response = client.get("/login")
    assert "Strict-Transport-Security" not in response.headers
    assert "Secure" not in session_cookie_header(response)


def test_https_requests_get_hsts_and_a_secure_session_cookie(client):
    response = client.get("/login", base_url="https://portal.example.com")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "; Secure" in session_cookie_header(response)


def test_behind_a_tls_proxy_the_forwarded_scheme_counts(make_app):
    app = make_app(PROXY_FIX_HOPS=1)
    plain = app.test_client().get("/login")
    proxied = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert "Strict-Transport-Security" not in plain.headers
    assert proxied.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "; Secure" in session_cookie_header(proxied)


def test_an_https_public_address_makes_cookies_secure_from_the_start(make_app):
    app = make_app(PUBLIC_BASE_URL="https://book.example.com")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    response = app.test_client().get("/login")
    assert "Strict-Transport-Security" in response.headers
    assert "; Secure" in session_cookie_header(response)


def test_pages_with_personal_data_are_not_stored(client, factory, member):
    calendar = factory.calendar(member.memberships[0].team, created_by=member)
    factory.session.commit()
    manage = manage_path(post_booking(client, calendar, free_slot(calendar)))
    for path in (manage, f"{manage}/reschedule", f"{manage}/cancel"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    login(client, member)
    for path in ("/dashboard", f"/calendars/{calendar.id}/bookings", f"/teams/{calendar.team_id}/salesforce/errors"):
        response = client.get(path)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store", path


def test_static_files_may_still_be_cached(app, client):
    name = sorted(os.listdir(os.path.join(app.static_folder, "css")))[0]
    response = client.get(f"/static/css/{name}")
    assert response.status_code == 200 and response.headers.get("Cache-Control") != "no-store"


def test_log_files_are_created_readable_by_owner_and_group_only(tmp_path):
    old_umask = os.umask(0o022)
    try:
        with open_log_file(tmp_path / "web.log") as log:
            log.write(b"guest ada@example.com booked\n")
        loose = tmp_path / "old.log"
        loose.write_bytes(b"")
        loose.chmod(0o666)
        open_log_file(loose).close()
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "web.log").stat().st_mode) == 0o640
    assert stat.S_IMODE(loose.stat().st_mode) == 0o640
    assert (tmp_path / "web.log").read_bytes() == b"guest ada@example.com booked\n"
