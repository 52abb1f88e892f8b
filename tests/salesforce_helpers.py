"""Record-level REST calls for tests, built on the client's one real path (`SalesforceClient.request`): the product
itself only queries, describes and sends the planner's Composite requests, so these stay out of the client."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from portal.planner.plan import MAX_SUBREQUESTS
from portal.salesforce.client import SalesforceClient


def create(sf: SalesforceClient, object_name: str, values: Mapping[str, Any]) -> str:
    """Create a record; returns its id."""
    return sf.request("POST", f"sobjects/{object_name}", json=dict(values))["id"]


def update(sf: SalesforceClient, object_name: str, record_id: str, values: Mapping[str, Any]) -> None:
    sf.request("PATCH", f"sobjects/{object_name}/{record_id}", json=dict(values))


def get(sf: SalesforceClient, object_name: str, record_id: str, fields: Sequence[str]) -> dict:
    return sf.request("GET", f"sobjects/{object_name}/{record_id}", params={"fields": ",".join(fields)})


def delete(sf: SalesforceClient, object_name: str, record_id: str) -> None:
    sf.request("DELETE", f"sobjects/{object_name}/{record_id}")


def composite(sf: SalesforceClient, subrequests: Sequence[Mapping[str, Any]], *, all_or_none: bool) -> list[dict]:
    """One Composite request (one API call); returns the `compositeResponse` list in subrequest order."""
    assert 0 < len(subrequests) <= MAX_SUBREQUESTS
    body = {"allOrNone": all_or_none, "compositeRequest": list(subrequests)}
    return sf.request("POST", "composite", json=body)["compositeResponse"]


def data_path(api_version: str, relative: str) -> str:
    """`sobjects/Lead` -> `/services/data/v62.0/sobjects/Lead` (Composite subrequest URLs are absolute)."""
    return f"/services/data/v{api_version}/{relative}"
