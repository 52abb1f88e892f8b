"""Absolute URLs of our own pages, as e-mails, OAuth providers, guests and Salesforce records see them."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for

from .models import Calendar


def salesforce_record_url(instance_url: str, record_id: str) -> str:
    """A record's page in the org as the connection knows it now (instance_url follows the org's moves, so links
    are built when shown, never stored); "" when either part is missing."""
    return f"{instance_url.rstrip('/')}/{record_id}" if instance_url and record_id else ""


def public_url(endpoint: str, **values) -> str:
    """PUBLIC_BASE_URL when configured (always, in production), else the current request's host.

    Works outside a request (RQ workers, the sweep's digests); there, without PUBLIC_BASE_URL, the path alone.
    Endpoints are full names ("sync_errors.errors"): there may be no current blueprint to resolve ".errors".
    """
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    if not base and has_request_context():
        return url_for(endpoint, _external=True, **values)
    parts = urlsplit(base)
    adapter = current_app.url_map.bind(
        parts.netloc or "localhost", script_name=parts.path or "/", url_scheme=parts.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=bool(base))


def booking_page_url(calendar: Calendar) -> str:
    """A calendar's public booking page; a sync and the editor's preview write the same URL."""
    return public_url("booking.calendar_page", slug=calendar.slug)
