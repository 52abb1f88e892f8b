"""Per-client abuse limits, so a script cannot fill a calendar, probe manage links or hammer login.

Views are marked with `@rate_limited(bucket, setting)`; `init_app` (called by create_app once the blueprints are
registered) puts them under one Flask-Limiter per app: moving windows kept in the app's Redis, keys prefixed with
RQ_QUEUE_PREFIX (so deployments and test runs sharing a Redis never count each other's hits). Settings are
"<count>/<seconds>", read on each request. Views marked with the same bucket share one budget per client. Over it,
429 with the clear page of portal.errors. If Redis is unreachable the request is allowed (Flask-Limiter's
swallow_errors; its "flask-limiter" logger records the failure): guests must still be able to book.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from .config import rate_limit_parts

log = logging.getLogger("portal.ratelimit")

TOO_MANY = "Too many attempts from your connection. Please wait a few minutes and try again."


@dataclass(frozen=True)
class RateLimit:
    bucket: str  # views with the same bucket share one budget per client
    setting: str  # the config name of the "<count>/<seconds>" limit
    methods: tuple[str, ...]  # the request methods that count


def rate_limited(bucket: str, setting: str, methods: tuple[str, ...] = ("POST",)):
    """Mark a view: requests with the given methods count against config[setting]; over it, 429."""

    def mark(view):
        view.rate_limit = RateLimit(bucket, setting, methods)
        return view

    return mark


def limit_text(setting: str) -> Callable[[], str]:
    """The setting in Flask-Limiter's words ("10 per 600 second"), read at each request so it can change."""

    def current() -> str:
        count, seconds = rate_limit_parts(current_app.config[setting])
        return f"{count} per {seconds} second"

    return current


def init_app(app: Flask) -> Limiter | None:
    """The app's one Limiter, applied to every view marked @rate_limited; None without Redis (nothing to count in,
    so nothing is limited, as when Redis is down)."""
    if not app.config["REDIS_URL"]:
        log.warning("REDIS_URL is not set: rate limits are off")
        return None
    limiter = Limiter(
        get_remote_address,  # the real client behind a proxy once ProxyFix is configured (PROXY_FIX_HOPS)
        app=app,
        storage_uri="redis://",  # picks the Redis storage; the connections are the queues' own (TCP or unix socket)
        storage_options={"connection_pool": app.extensions["redis"].connection_pool},
        strategy="moving-window",
        key_prefix=app.config["RQ_QUEUE_PREFIX"],
        swallow_errors=True,
    )
    for endpoint, view in list(app.view_functions.items()):
        marked = getattr(view, "rate_limit", None)
        if marked is not None:
            app.view_functions[endpoint] = limiter.shared_limit(
                limit_text(marked.setting), scope=marked.bucket, methods=list(marked.methods), error_message=TOO_MANY
            )(view)
    return limiter
