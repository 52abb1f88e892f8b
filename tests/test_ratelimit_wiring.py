"""The rate limiter's wiring (portal/ratelimit.py): counts kept apart per RQ_QUEUE_PREFIX, and requests allowed
while Redis is down. Login starts are the probe: they need no database row."""

from __future__ import annotations

from .auth_flow import start_login


def test_deployments_sharing_a_redis_do_not_count_each_others_hits(make_app, run_id):
    first = make_app(RATE_LIMIT_LOGIN="1/600", RQ_QUEUE_PREFIX=f"limits-a-{run_id}").test_client()
    second = make_app(RATE_LIMIT_LOGIN="1/600", RQ_QUEUE_PREFIX=f"limits-b-{run_id}").test_client()

    assert [start_login(first, "google").status_code for _ in range(2)] == [302, 429]
    assert start_login(second, "google").status_code == 302  # same client address, same Redis, other prefix


def test_requests_are_allowed_while_redis_is_down(make_app, run_id):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0", RATE_LIMIT_LOGIN="1/600", RQ_QUEUE_PREFIX=f"down-{run_id}")
    client = app.test_client()

    assert [start_login(client, "google").status_code for _ in range(3)] == [302, 302, 302]
