"""The support console's audit-log filters (the failures filters are the errors page's own)."""

from __future__ import annotations

from collections.abc import Mapping

from ..sync_errors.forms import optional_id, page_cursor, rows_per_page
from .queries import AuditFilters

AUDIT_FILTER_ARGS = ("team", "action", "actor", "per_page")


def parse_audit_filters(args: Mapping[str, str]) -> tuple[AuditFilters, dict[str, str]]:
    problems: dict[str, str] = {}
    filters = AuditFilters(
        team_id=optional_id(args, "team", problems, "A team id is a number."),
        action=args.get("action", "").strip()[:80],
        actor_email=args.get("actor", "").strip()[:320],
        cursor=page_cursor(args),
        per_page=rows_per_page(args),
    )
    return filters, problems
