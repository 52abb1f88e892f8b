"""Fault injection: rules that make matching requests fail the way a real org or network does.

A rule names a fault, a path regular expression, optionally a method, and either a count (the next K
matching requests, deterministic) or a rate (a seeded random share of matching requests).
"""

import random
import re

from emulators.salesforce.errors import api_error

SERVICE_UNAVAILABLE = "service_unavailable"  # 503 with an HTML page, as Salesforce's front end sends
UNKNOWN_EXCEPTION = "unknown_exception"  # 500 [{"errorCode": "UNKNOWN_EXCEPTION"}]
UNABLE_TO_LOCK_ROW = "unable_to_lock_row"  # a write refused because another transaction holds the row
DROP_CONNECTION = "drop_connection"  # the connection closes before the request is processed
DROP_AFTER_COMMIT = "drop_after_commit"  # the request is processed and committed, then the connection closes
FAULTS = (SERVICE_UNAVAILABLE, UNKNOWN_EXCEPTION, UNABLE_TO_LOCK_ROW, DROP_CONNECTION, DROP_AFTER_COMMIT)
TRANSPORT_FAULTS = (SERVICE_UNAVAILABLE, UNKNOWN_EXCEPTION, DROP_CONNECTION, DROP_AFTER_COMMIT)

SERVICE_UNAVAILABLE_PAGE = """<!DOCTYPE html>
<html><head><title>Service Unavailable</title></head>
<body><h1>Service Unavailable</h1>
<p>The server is temporarily unable to service your request due to maintenance downtime or capacity
problems. Please try again later.</p></body></html>
"""
UNKNOWN_EXCEPTION_BODY = [
    {
        "message": "An unexpected error occurred. Please include this ErrorId if you contact support: "
        "1729381746-40210 (-1084732592)",
        "errorCode": "UNKNOWN_EXCEPTION",
    }
]


def validate_rule(spec: dict) -> dict:
    """Normalise a control-API fault spec, raising ValueError on anything unusable."""
    if spec.get("fault") not in FAULTS:
        raise ValueError(f"fault must be one of {', '.join(FAULTS)}")
    path = spec.get("path") or r"^/services/data/"
    re.compile(path)
    count = spec.get("count")
    rate = float(spec.get("rate", 1.0))
    if count is not None and (not isinstance(count, int) or count < 1):
        raise ValueError("count must be a positive integer")
    if not 0.0 < rate <= 1.0:
        raise ValueError("rate must be in (0, 1]")
    method = spec.get("method")
    return {
        "fault": spec["fault"],
        "path": path,
        "method": method.upper() if method else None,
        "count": count,
        "rate": rate,
    }


def take(rules: list[dict], kinds: tuple[str, ...], method: str, paths: list[str], draw: random.Random) -> str | None:
    """Return the first matching fault of the given kinds and use up one of its count."""
    for rule in rules:
        if rule["fault"] not in kinds or (rule["method"] and rule["method"] != method):
            continue
        if not any(re.search(rule["path"], path) for path in paths):
            continue
        if rule["rate"] < 1.0 and draw.random() >= rule["rate"]:
            continue
        if rule["count"] is not None:
            rule["count"] -= 1
            if rule["count"] == 0:
                rules.remove(rule)
        return rule["fault"]
    return None


def lock_error(record_id: str | None):
    target = f" or 1 records: {record_id}" if record_id else ""
    return api_error(400, "UNABLE_TO_LOCK_ROW", f"unable to obtain exclusive access to this record{target}", [])
