"""Each benchmark runs end to end in its tiny --quick mode, from its executable in bench/, and prints only figure
lines on stdout in the documented format. No figure is asserted against a target (no timed assertions)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from subprocess import PIPE

ROOT = Path(__file__).resolve().parent.parent
NUMBER = r"\d+\.\d\d"
SCENARIOS = (
    "new_lead_with_event",
    "new_lead_without_event",
    "existing_lead_overwrite_with_event",
    "existing_lead_overwrite_without_event",
    "existing_lead_no_overwrite_with_event",
    "existing_lead_no_overwrite_without_event",
    "new_contact_with_event",
    "existing_contact_overwrite_with_event",
    "contact_first",
    "converted_lead",
    "existing_lead_only_if_empty",
    "existing_lead_create_only_fields",
    "reschedule",
    "cancel",
    "returning_guest",
    "returning_guest_record_deleted",
    "overall",
)


def run_bench(name: str, service_urls) -> list[str]:
    env = {**os.environ, **service_urls}
    process = subprocess.Popen(
        [str(ROOT / "bench" / name), "--quick"], cwd=ROOT, env=env, stdout=PIPE, stderr=PIPE, text=True
    )
    try:
        stdout, stderr = process.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        process.terminate()  # SIGTERM: the bench stops what it started and drops its database
        stdout, stderr = process.communicate(timeout=60)
        raise AssertionError(f"bench/{name} --quick did not finish in 4 minutes: {stderr[-3000:]}") from None
    assert process.returncode == 0, stderr[-3000:]
    return stdout.splitlines()


def test_api_calls_prints_calls_and_token_calls_per_booking_for_every_scenario(service_urls):
    lines = run_bench("api_calls", service_urls)

    expected = [f"api_calls_per_booking scenario={name} value=" for name in SCENARIOS]
    expected += [f"token_calls_per_booking scenario={name} value=" for name in SCENARIOS]
    assert [line.rsplit("=", 1)[0] + "=" for line in lines] == expected
    assert all(re.fullmatch(rf".* value={NUMBER}", line) for line in lines), lines


def test_throughput_prints_the_worker_class_costs_then_one_line_per_worker_count(service_urls):
    lines = run_bench("throughput", service_urls)

    costs = [rf"rq_job_cost worker_class={cls} jobs=\d+ per_job_ms={NUMBER}" for cls in ("fork", "simple", "spawn")]
    runs = [
        rf"throughput workers={w} worker_class=(fork|simple) bookings=6 latency_ms=100 calls_per_booking={NUMBER} "
        rf"bookings_per_s={NUMBER} bound_per_s={NUMBER} ratio={NUMBER} "
        rf"worker_cpu_ms_per_booking={NUMBER} emulator_cpu_ms_per_booking={NUMBER} "
        rf"sql_statements_per_sync={NUMBER} commits_per_sync={NUMBER}"
        for w in (1, 2)
    ]
    assert len(lines) == len(costs + runs), lines
    for pattern, line in zip(costs + runs, lines, strict=True):
        assert re.fullmatch(pattern, line), line


def test_latency_prints_p50_and_p95_from_commit_to_the_salesforce_write(service_urls):
    lines = run_bench("latency", service_urls)

    pattern = (
        r"latency measure=commit_to_salesforce_write worker_class=(fork|simple) samples=3 emulator_latency_ms=100 "
        rf"p50_ms=-?{NUMBER} p95_ms=-?{NUMBER} max_ms=-?{NUMBER}"
    )
    assert len(lines) == 1 and re.fullmatch(pattern, lines[0]), lines


def test_pages_prints_the_ceiling_then_the_three_pages_with_their_ratio_to_it_then_the_scale_lines(service_urls):
    lines = run_bench("pages", service_urls)

    load = rf"clients=4 requests_per_s={NUMBER} p50_ms={NUMBER} p95_ms={NUMBER} "
    load += rf"sql_queries_per_request={NUMBER} in_process_ms={NUMBER} errors=\d+"
    patterns = [rf"pages page=ceiling {load}"]
    patterns += [
        rf"pages page={page} {load} ratio_to_ceiling={NUMBER}" for page in ("booking", "calendar_editor", "errors")
    ]
    for page in ("errors", "booking"):
        patterns += [
            rf"pages_scale page={page} failures={count} sql_queries_per_request={NUMBER} in_process_ms={NUMBER}"
            for count in (200, 2000)
        ]
        patterns.append(rf"pages_scale page={page} failures=2000/200 in_process_ratio={NUMBER}")
    patterns += [
        rf"pages_scale page=booking hosts={count} sql_queries_per_request={NUMBER} in_process_ms={NUMBER}"
        for count in (1, 20)
    ]
    patterns.append(rf"pages_scale page=booking hosts=20/1 in_process_ratio={NUMBER}")
    patterns.append(rf"pages_scale page=booking cache=miss sql_queries_per_request={NUMBER} in_process_ms={NUMBER}")
    assert len(lines) == len(patterns), lines
    for pattern, line in zip(patterns, lines, strict=True):
        assert re.fullmatch(pattern, line), line


def test_drill_ends_with_the_count_and_loses_or_doubles_nothing(service_urls):
    lines = run_bench("drill", service_urls)

    assert re.fullmatch(
        r"drill_faults data_calls=\d+ service_unavailable=\d+ drop_connection=\d+ drop_after_commit=\d+ token_calls=\d+ "
        r"worker_kills=\d+ redis_restarts=1 sync_states=[a-z:0-9,]+",
        lines[-2],
    ), lines
    assert lines[-1] == "bookings=20 synced=20 lost=0 duplicates=0"


def test_backfill_prints_calls_per_booking_for_backfills_released_syncs_and_the_live_path(service_urls):
    lines = run_bench("backfill", service_urls)

    patterns = [
        rf"backfill scenario={name} bookings=20 api_calls=\d+ calls_per_booking={NUMBER} seconds={NUMBER} "
        rf"bookings_per_s={NUMBER}"
        for name in ("new_guests", "half_existing_leads_if_empty")
    ]
    patterns.append(
        rf"released scenario=reconnect bookings=5 api_calls=\d+ calls_per_booking={NUMBER} seconds={NUMBER}"
    )
    patterns.append(rf"live scenario=new_guests bookings=2 api_calls=\d+ calls_per_booking={NUMBER}")
    assert len(lines) == len(patterns), lines
    for pattern, line in zip(patterns, lines, strict=True):
        assert re.fullmatch(pattern, line), line
