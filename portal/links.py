"""Absolute URLs of a calendar's public pages, as guests and Salesforce records see them."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, url_for

from .models import Calendar


def salesforce_record_url(instance_url: str, record_id: str) -> str:
    """A record's page in the org as the connection knows it now (instance_url follows the org's moves, so links
    are built when shown, never stored); "" when either part is missing."""
    return f"{instance_url.rstrip('/')}/{record_id}" if instance_url and record_id else ""


def booking_page_url(calendar: Calendar) -> str:
    """PUBLIC_BASE_URL when configured (always, in production), else the current request's host.

    Works outside a request (RQ workers), so a sync and the editor's preview write the same URL.
    """
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    if not base:
        return url_for("booking.calendar_page", slug=calendar.slug, _external=True)
    parts = urlsplit(base)
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
    return adapter.build("booking.calendar_page", {"slug": calendar.slug}, force_external=True)
