"""The viewer's time zone on team pages: the browser reports it (static/js/viewer-zone.js keeps it in a cookie),
and times are shown in it; until it has, the calendar's own zone is used."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import request

VIEWER_ZONE_COOKIE = "viewer_tz"


def viewer_zone(fallback: str) -> str:
    """The zone the browser reported, when it is a real zone name; else the fallback."""
    name = request.cookies.get(VIEWER_ZONE_COOKIE, "")
    if not name or len(name) > 64:
        return fallback
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return fallback
    return name
