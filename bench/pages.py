"""bench/pages: the public booking page, the calendar editor and the errors page (10,000 failed syncs) under
concurrent load against gunicorn (as docs/operations.md runs it): requests per second, p50, p95 and SQL queries
per request. First the ceiling: the same load on the cheapest response the app serves (a small static file through
Flask's static route); each page's ratio_to_ceiling is its requests per second over the ceiling's, in the same run.

The booking page is requested as a guest would, without the login cookie.

Then the scale lines: the errors page and the booking page in-process, for this team (--failures failed syncs,
each with a booking of the page's host) and for a second team with ten times as many, and the booking page for a
calendar with 1 host and one with 20, in alternating rounds: a page whose cost does not grow with the data prints a
ratio near 1.

Load comes from a Python thread pool with one requests.Session (keep-alive) per client, on this same machine.
SQL statements are counted in this process: the same requests, with the same session cookie, go through the
same app built on the same database, with a SQLAlchemy `before_cursor_execute` listener on its engine.
"""

from __future__ import annotations

import argparse
import re
import statistics
import threading
import time
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException
from urllib.parse import urlsplit

import requests
from flask import Flask, request_started
from sqlalchemy import event

from emulators.identity.control import IdentityControl
from portal.calendars.week_cache import week_cache
from portal.extensions import db

from .common import Bench, figure, note, percentile
from .seed import SeededTeam, seed_failed_syncs, seed_host_calendars, seed_team, seed_upcoming_bookings


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds per page (default 20)")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds first (default 3)")
    parser.add_argument("--failures", type=int, default=10_000, help="failed syncs on the errors page (10,000)")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    parser.add_argument("--scale-only", action="store_true", help="only the scale lines, no load")
    parser.add_argument("--quick", action="store_true", help="a tiny run: 4 clients, 2 s, 200 failures")
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.seconds, args.warmup, args.failures = 4, 2, 0.5, 200
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    with Bench("pages") as bench:
        identity = bench.identity()
        app = bench.app(bench.database(), bench.shared_redis(), identity=identity)
        seeded = seed_team(app, "pages", office_hours=True)
        note(f"seeding {args.failures} failed syncs…")
        seed_failed_syncs(app, seeded, args.failures)
        seed_upcoming_bookings(app, seeded, 20)
        base = bench.gunicorn(app, workers=args.gunicorn_workers, threads=args.threads)
        session = log_in(base, identity, seeded)
        pages = {"ceiling": CEILING_PATH, **pages_of(seeded)}
        results = [] if args.scale_only else [measure(app, base, session, n, p, args) for n, p in pages.items()]
        scale = scale_lines(app, base, identity, seeded, session, args.failures)
        scale += host_scale_lines(app, args.quick)
        scale.append(booking_miss_line(app, pages_of(seeded)["booking"]))
    ceiling = next((result for result in results if result.name == "ceiling"), None)
    for result in results:
        figure("pages", **page_line(result, ceiling, args.clients))
    for line in scale:
        figure("pages_scale", **line)


def page_line(result: PageResult, ceiling: PageResult | None, clients: int) -> dict:
    """A page's figures; beside the ceiling's, its share of the ceiling's throughput in the same run."""
    line = dict(
        page=result.name,
        clients=clients,
        requests_per_s=result.requests_per_second,
        p50_ms=result.p50_ms,
        p95_ms=result.p95_ms,
        sql_queries_per_request=result.queries_per_request,
        in_process_ms=result.in_process_ms,
        errors=result.errors,
    )
    if ceiling is not None and result is not ceiling:
        line["ratio_to_ceiling"] = result.requests_per_second / ceiling.requests_per_second
    return line


# The ceiling: the cheapest response the app serves, a small static file through Flask's static route, under the
# same gunicorn and load generator as the pages.
CEILING_PATH = "/static/js/timezone.js"

SCALED_PAGES = ("errors", "booking")
SCALE_FACTOR = 10
SCALE_ROUNDS = 9


def scale_lines(app: Flask, base: str, identity, small: SeededTeam, small_session, failures: int) -> list[dict]:
    """The errors and booking pages in-process for a team with `failures` failed syncs (each with a booking of the
    page's host outside the week shown) and for a second team with SCALE_FACTOR times as many: rounds alternate
    between the two so drift in the machine's speed falls on both alike; medians of the rounds, and their ratio."""
    large_count = failures * SCALE_FACTOR
    large = seed_team(app, "scale", office_hours=True)
    note(f"seeding {large_count} failed syncs for the second team…")
    seed_failed_syncs(app, large, large_count)
    seed_upcoming_bookings(app, large, 20)
    teams = {failures: (small, small_session), large_count: (large, log_in(base, identity, large))}
    timings: dict[tuple[int, str], list[float]] = {(n, page): [] for n in teams for page in SCALED_PAGES}
    queries: dict[tuple[int, str], float] = {}
    for _ in range(SCALE_ROUNDS):
        for count, (seeded, session) in teams.items():
            for page in SCALED_PAGES:
                headers = {} if page in GUEST_PAGES else session_headers(session)
                queries[count, page], ms = in_process(app, pages_of(seeded)[page], headers)
                timings[count, page].append(ms)
    lines = []
    for page in SCALED_PAGES:
        medians = {count: statistics.median(timings[count, page]) for count in teams}
        for count in teams:
            lines.append(
                dict(
                    page=page,
                    failures=count,
                    sql_queries_per_request=queries[count, page],
                    in_process_ms=medians[count],
                )
            )
        lines.append(
            dict(
                page=page,
                failures=f"{large_count}/{failures}",
                in_process_ratio=medians[large_count] / medians[failures],
            )
        )
    return lines


HOST_COUNTS = (1, 20)


def host_scale_lines(app: Flask, quick: bool) -> list[dict]:
    """The booking page in-process for a calendar with one host and for one with 20, every host with bookings in
    the week shown and in the past: alternating rounds, medians, and their ratio (target: within 2x)."""
    note(f"seeding calendars with {' and '.join(map(str, HOST_COUNTS))} hosts…")
    slugs = seed_host_calendars(app, "hosts", HOST_COUNTS, past_bookings=20 if quick else 500)
    timings: dict[int, list[float]] = {count: [] for count in HOST_COUNTS}
    queries: dict[int, float] = {}
    for _ in range(SCALE_ROUNDS):
        for count in HOST_COUNTS:
            queries[count], ms = in_process(app, f"/book/{slugs[count]}", {})
            timings[count].append(ms)
    medians = {count: statistics.median(timings[count]) for count in HOST_COUNTS}
    lines = [
        dict(page="booking", hosts=count, sql_queries_per_request=queries[count], in_process_ms=medians[count])
        for count in HOST_COUNTS
    ]
    few, many = HOST_COUNTS
    lines.append(dict(page="booking", hosts=f"{many}/{few}", in_process_ratio=medians[many] / medians[few]))
    return lines


def booking_miss_line(app: Flask, path: str) -> dict:
    """The booking page's cost when its week is not cached (the first guest after a booking change, a new week or
    zone): the same in-process requests with the app's cache emptied before each."""
    cache = week_cache(app)

    def forget(sender, **extra):
        cache.clear()

    request_started.connect(forget, app)
    try:
        queries, ms = in_process(app, path, {})
    finally:
        request_started.disconnect(forget, app)
    return dict(page="booking", cache="miss", sql_queries_per_request=queries, in_process_ms=ms)


GUEST_PAGES = {"booking", "ceiling"}  # requested without the login cookie, as guests do


def pages_of(seeded: SeededTeam) -> dict[str, str]:
    return {
        "booking": f"/book/{seeded.slug}",
        "calendar_editor": f"/calendars/{seeded.calendar_id}/edit",
        "errors": f"/teams/{seeded.team_id}/salesforce/errors",
    }


def log_in(base: str, identity, seeded: SeededTeam) -> requests.Session:
    """Log the owner in for real: the login page's CSRF token, "Log in with Google", the emulator's account page,
    the callback. The session cookie then belongs to this User-Agent and address (strong session protection)."""
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    start = session.post(f"{base}/login/google", data={"csrf_token": token}, allow_redirects=False, timeout=10)
    callback = IdentityControl(identity.url).sign_in(start.headers["Location"], email=seeded.owner_email, name="Olive")
    session.get(callback, timeout=10).raise_for_status()
    return session


@dataclass
class PageResult:
    name: str
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    errors: int
    queries_per_request: float
    in_process_ms: float


@dataclass
class _Client:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


def measure(app: Flask, base: str, logged_in: requests.Session, name: str, path: str, args) -> PageResult:
    check = logged_in.get(base + path, allow_redirects=False, timeout=10)
    if check.status_code != 200:
        raise SystemExit(f"{path} answered {check.status_code}, not 200: the page or the login is broken")
    note(f"{name}: {args.clients} clients for {args.warmup:g}+{args.seconds:g} s on {path}")
    clients = [_Client() for _ in range(args.clients)]
    headers = {} if name in GUEST_PAGES else session_headers(logged_in)
    start = time.monotonic() + 0.5  # every thread ready before the clock starts
    measured_from, stop = start + args.warmup, start + args.warmup + args.seconds
    threads = [
        threading.Thread(target=_hammer, args=(headers, base + path, client, start, measured_from, stop))
        for client in clients
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies = [latency for client in clients for latency in client.latencies]
    queries, in_process_ms = in_process(app, path, headers)
    return PageResult(
        name=name,
        requests_per_second=len(latencies) / args.seconds,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p95_ms=percentile(latencies, 0.95) * 1000,
        errors=sum(client.errors for client in clients),
        queries_per_request=queries,
        in_process_ms=in_process_ms,
    )


def _hammer(headers: dict, url: str, client: _Client, start: float, measured_from: float, stop: float) -> None:
    """One client on one keep-alive connection: GET the page back to back; keep the latencies of the requests that
    started in the measured window. http.client rather than requests: it leaves more CPU to the server."""
    parts = urlsplit(url)
    connection = HTTPConnection(parts.hostname, parts.port, timeout=30)
    time.sleep(max(0.0, start - time.monotonic()))
    while (began := time.monotonic()) < stop:
        try:
            connection.request("GET", parts.path, headers=headers)
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, HTTPException):
            connection.close()  # reconnects on the next request
            ok = False
        if began >= measured_from:
            if ok:
                client.latencies.append(time.monotonic() - began)
            else:
                client.errors += 1
    connection.close()


def session_headers(logged_in: requests.Session) -> dict[str, str]:
    """The logged-in session's cookie, with its User-Agent: strong session protection binds the two."""
    return {
        "Cookie": "; ".join(f"{name}={value}" for name, value in logged_in.cookies.items()),
        "User-Agent": logged_in.headers["User-Agent"],
    }


def in_process(app: Flask, path: str, headers: dict[str, str], repeats: int = 10) -> tuple[float, float]:
    """SQL statements per request and milliseconds per request for this page, one request at a time in this process
    (no network, no concurrency: the page's own cost), averaged after a first, uncounted request."""
    statements = 0

    def count(*_):
        nonlocal statements
        statements += 1

    client = app.test_client(use_cookies=False)  # the Cookie header, if any, carries the logged-in session
    with app.app_context():
        engine = db.engine
    if client.get(path, headers=headers).status_code != 200:
        raise SystemExit(f"{path} did not answer 200 in-process; cannot count its queries")
    event.listen(engine, "before_cursor_execute", count)
    began = time.perf_counter()
    try:
        for _ in range(repeats):
            client.get(path, headers=headers)
    finally:
        elapsed = time.perf_counter() - began
        event.remove(engine, "before_cursor_execute", count)
    return statements / repeats, elapsed / repeats * 1000


if __name__ == "__main__":
    main()
