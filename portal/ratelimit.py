"""Per-client rate limits kept in Redis (fixed windows), so a script cannot fill a calendar or hammer login.

Limits come from config as "<count>/<seconds>"; an exceeded limit answers 429 with a clear page.
"""

from __future__ import annotations

import functools
import logging
import time

from flask import abort, current_app, request

from .extensions import queues

log = logging.getLogger("portal.ratelimit")


def parse_limit(text: str) -> tuple[int, int]:
    count, _, seconds = text.partition("/")
    return int(count), int(seconds)


def client_key() -> str:
    """The client's address (ProxyFix, when configured, makes this the real one behind a proxy)."""
    return request.remote_addr or "unknown"


def allow(bucket: str, limit: str, key: str | None = None) -> bool:
    """Count one hit for this client in this bucket; False when the window's budget is spent.

    If Redis is unreachable we let the request through: guests must still be able to book.
    """
    count, seconds = parse_limit(limit)
    window = int(time.time() // seconds)
    redis_key = f"{current_app.config['RQ_QUEUE_PREFIX']}:ratelimit:{bucket}:{key or client_key()}:{window}"
    try:
        pipeline = queues.redis.pipeline()
        pipeline.incr(redis_key)
        pipeline.expire(redis_key, seconds)
        hits, _ = pipeline.execute()
    except Exception:
        log.warning("rate limit store unavailable; allowing request", exc_info=True)
        return True
    return int(hits) <= count


def rate_limited(bucket: str, setting: str, methods: tuple[str, ...] = ("POST",)):
    """Decorate a view: requests with the given methods count against config[setting]; over it, 429."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if request.method in methods and not allow(bucket, current_app.config[setting]):
                abort(
                    429, description="Too many attempts from your connection. Please wait a few minutes and try again."
                )
            return view(*args, **kwargs)

        return wrapped

    return decorate
