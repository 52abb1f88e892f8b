"""Absolute URLs of a calendar's public pages, as guests and Salesforce records see them."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, url_for

from .models import Calendar


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
