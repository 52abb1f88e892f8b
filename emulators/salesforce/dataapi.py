"""The REST data API's resources under /services/data/vXX.X, independent of HTTP plumbing.

``dispatch`` serves both top-level requests (through rest.py) and Composite subrequests.
"""

import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from emulators.salesforce import faults, ids, soql
from emulators.salesforce.errors import ApiError, api_error, not_found
from emulators.salesforce.metadata import API_VERSIONS, OBJECT_LABELS, describe_object
from emulators.salesforce.org import Org, sf_datetime
from emulators.salesforce.rules import check_write, parse_datetime

_VERSIONED = re.compile(r"^/services/data/v(?P<version>\d+\.\d)(?P<rest>/.*)?$")


@dataclass
class Response:
    status: int
    body: object = None
    headers: dict = field(default_factory=dict)


@dataclass
class Context:
    """What a resource needs to know about the request it serves."""

    org: Org
    headers: dict
    outer_path: str
    version: str = API_VERSIONS[-1]


def versions_list() -> list[dict]:
    return [{"label": f"v{v}", "url": f"/services/data/v{v}", "version": v} for v in API_VERSIONS]


def is_composite_path(path: str) -> bool:
    match = _VERSIONED.match(path)
    return match is not None and match["version"] in API_VERSIONS and (match["rest"] or "").rstrip("/") == "/composite"


def dispatch(ctx: Context, method: str, path: str, params: dict, body: object) -> Response:
    """Route one request (path starting /services/data/vXX.X) to its resource; errors become arrays."""
    try:
        return _route(ctx, method, path, params, body)
    except ApiError as failure:
        return Response(failure.status, failure.errors)


def _route(ctx: Context, method: str, path: str, params: dict, body: object) -> Response:
    match = _VERSIONED.match(path)
    if match is None or match["version"] not in API_VERSIONS:
        raise not_found()
    ctx.version = match["version"]
    rest = (match["rest"] or "/").rstrip("/") or "/"
    for pattern, handlers in _ROUTES:
        found = re.fullmatch(pattern, rest)
        if found is None:
            continue
        handler = handlers.get(method)
        if handler is None:
            allowed = ",".join(sorted(handlers))
            raise api_error(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {allowed}")
        return handler(ctx, params=params, body=body, **found.groupdict())
    raise not_found()


# -- simple resources --------------------------------------------------------------------------


def resources(ctx: Context, **_) -> Response:
    base = f"/services/data/v{ctx.version}"
    names = ("sobjects", "query", "composite", "limits")
    return Response(200, {name: f"{base}/{name}" for name in names})


def limits(ctx: Context, **_) -> Response:
    maximum = ctx.org.settings["daily_api_limit"]
    return Response(200, {"DailyApiRequests": {"Max": maximum, "Remaining": max(maximum - ctx.org.api_calls, 0)}})


def describe_global(ctx: Context, **_) -> Response:
    sobjects = [
        {
            "name": name,
            "label": label,
            "labelPlural": plural,
            "keyPrefix": ids.KEY_PREFIXES[name],
            "queryable": True,
            "createable": name != "User",
            "updateable": name != "User",
            "urls": {"sobject": f"/services/data/v{ctx.version}/sobjects/{name}"},
        }
        for name, (label, plural) in OBJECT_LABELS.items()
    ]
    return Response(200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects})


def _sobject_name(name: str) -> str:
    canonical = next((known for known in OBJECT_LABELS if known.lower() == name.lower()), None)
    if canonical is None:
        raise not_found()
    return canonical


def describe(ctx: Context, sobject: str, **_) -> Response:
    name = _sobject_name(sobject)
    return Response(200, describe_object(name, ctx.org.fields(name), ctx.version))


def sobject_info(ctx: Context, sobject: str, **_) -> Response:
    name = _sobject_name(sobject)
    summary = {key: value for key, value in describe_object(name, [], ctx.version).items() if key != "fields"}
    return Response(200, {"objectDescribe": summary, "recentItems": []})


# -- records -----------------------------------------------------------------------------------


def record_json(ctx: Context, sobject: str, record: dict, names: list[str] | None = None) -> dict:
    """A record as the API shows it: attributes first, then fields in describe (or requested) order."""
    readable = [f.name for f in ctx.org.fields(sobject) if f.readable]
    chosen = names if names is not None else readable
    shown = {"attributes": {"type": sobject, "url": f"/services/data/v{ctx.version}/sobjects/{sobject}/{record['Id']}"}}
    shown.update({name: record.get(name) for name in chosen})
    return shown


def _existing(ctx: Context, sobject: str, record_id: str) -> dict:
    found = ctx.org.find_record(record_id)
    if found is None or found[0] != sobject:
        raise api_error(
            404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {record_id}"
        )
    return found[1]


def retrieve(ctx: Context, sobject: str, record_id: str, params: dict, **_) -> Response:
    name = _sobject_name(sobject)
    record = _existing(ctx, name, record_id)
    if record["IsDeleted"]:
        raise not_found()
    names = None
    if params.get("fields"):
        fields = ctx.org.field_map(name)
        requested = [part.strip() for part in params["fields"].split(",") if part.strip()]
        unknown = [part for part in requested if part.lower() not in fields or not fields[part.lower()].readable]
        if unknown:
            raise api_error(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {name}")
        names = [fields[part.lower()].name for part in requested]
    return Response(200, record_json(ctx, name, record, names))


def _require_object_body(body: object) -> dict:
    if not isinstance(body, dict):
        raise api_error(
            400,
            "JSON_PARSER_ERROR",
            "Cannot deserialize instance of "
            + ("object" if body is not None else "request")
            + " from START_ARRAY value [line:1, column:1]",
        )
    return body


def _check_lock_fault(ctx: Context, method: str, path: str, record_id: str | None) -> None:
    if faults.take(ctx.org.faults, (faults.UNABLE_TO_LOCK_ROW,), method, [ctx.outer_path, path], ctx.org.random):
        raise faults.lock_error(record_id)


def create(ctx: Context, sobject: str, body: object, **_) -> Response:
    name = _sobject_name(sobject)
    record_id = _insert(ctx, name, _require_object_body(body))
    path = f"/services/data/v{ctx.version}/sobjects/{name}"
    return Response(201, {"id": record_id, "success": True, "errors": []}, {"Location": f"{path}/{record_id}"})


def _insert(ctx: Context, name: str, body: dict) -> str:
    values = check_write(ctx.org, name, body, None, ctx.headers, ctx.version)
    if name == "Event":
        values.update(_event_derived_fields(values))
    _check_lock_fault(ctx, "POST", f"/services/data/v{ctx.version}/sobjects/{name}", None)
    return ctx.org.insert_record(name, values)


def update(ctx: Context, sobject: str, record_id: str, body: object, **_) -> Response:
    name = _sobject_name(sobject)
    _update_existing(ctx, name, record_id, _require_object_body(body))
    return Response(204)


def _update_existing(ctx: Context, name: str, record_id: str, body: dict) -> str:
    record = _existing(ctx, name, record_id)
    if record["IsDeleted"]:
        raise api_error(404, "ENTITY_IS_DELETED", "entity is deleted", [])
    values = check_write(ctx.org, name, body, record, ctx.headers, ctx.version)
    if name == "Event":
        values.update(_event_derived_fields({**record, **values}, changed=values))
    _check_lock_fault(ctx, "PATCH", f"/services/data/v{ctx.version}/sobjects/{name}/{record_id}", record["Id"])
    ctx.org.update_record(name, record["Id"], values)
    return record["Id"]


def delete(ctx: Context, sobject: str, record_id: str, **_) -> Response:
    name = _sobject_name(sobject)
    record = _existing(ctx, name, record_id)
    if record["IsDeleted"]:
        raise api_error(404, "ENTITY_IS_DELETED", "entity is deleted", [])
    _check_lock_fault(ctx, "DELETE", f"/services/data/v{ctx.version}/sobjects/{name}/{record_id}", record["Id"])
    ctx.org.update_record(name, record["Id"], {"IsDeleted": True})
    return Response(204)


def _event_derived_fields(event: dict, changed: dict | None = None) -> dict:
    """Salesforce keeps ActivityDateTime, ActivityDate, EndDateTime and DurationInMinutes consistent."""
    start = event.get("StartDateTime") or event.get("ActivityDateTime")
    if not start:
        return {}
    derived = {
        "StartDateTime": start,
        "ActivityDateTime": start,
        "ActivityDate": parse_datetime(start).date().isoformat(),
    }
    duration_changed = changed is not None and "DurationInMinutes" in changed and "EndDateTime" not in changed
    if event.get("EndDateTime") and not duration_changed:
        minutes = (parse_datetime(event["EndDateTime"]) - parse_datetime(start)).total_seconds() // 60
        derived["DurationInMinutes"] = int(minutes)
    elif event.get("DurationInMinutes") is not None:
        try:
            end = parse_datetime(start) + timedelta(minutes=event["DurationInMinutes"])
        except OverflowError:
            raise api_error(400, "FIELD_INTEGRITY_EXCEPTION", "End Date Time: invalid date", ["EndDateTime"]) from None
        derived["EndDateTime"] = sf_datetime(end)
    return derived


# -- queries -----------------------------------------------------------------------------------


def query(ctx: Context, params: dict, **_) -> Response:
    text = params.get("q")
    if not text:
        raise api_error(400, "MALFORMED_QUERY", "A query string has to be specified")
    parsed = soql.parse(text, lambda name: _described(ctx.org, name))
    fields = ctx.org.field_map(parsed.sobject)
    rows = [
        record
        for record in ctx.org.records[parsed.sobject].values()
        if not record["IsDeleted"] and soql.matches(parsed.where, record, fields)
    ]
    for name, descending, nulls_first in reversed(parsed.order):
        rows.sort(key=lambda r: soql.sort_key(r, name, descending, nulls_first, fields), reverse=descending)
    rows = rows[parsed.offset :]
    if parsed.limit is not None:
        rows = rows[: parsed.limit]
    if parsed.count_only:
        return Response(200, {"totalSize": len(rows), "done": True, "records": []})
    shown = [record_json(ctx, parsed.sobject, row, parsed.fields) for row in rows]
    return _query_page(ctx, shown, len(shown))


def _described(org: Org, name: str):
    canonical = next((known for known in OBJECT_LABELS if known.lower() == name.lower()), None)
    return None if canonical is None else (canonical, org.field_map(canonical))


def _query_page(ctx: Context, rows: list[dict], total: int) -> Response:
    batch = ctx.org.settings["query_batch_size"]
    page, remaining = rows[:batch], rows[batch:]
    body = {"totalSize": total, "done": not remaining}
    if remaining:
        locator = f"01g{secrets.token_hex(6)}-{batch}"
        ctx.org.cursors[locator] = (remaining, total)
        body["nextRecordsUrl"] = f"/services/data/v{ctx.version}/query/{locator}"
    body["records"] = page
    return Response(200, body)


def query_more(ctx: Context, locator: str, **_) -> Response:
    cursor = ctx.org.cursors.pop(locator, None)
    if cursor is None:
        raise api_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    remaining, total = cursor
    return _query_page(ctx, remaining, total)


# -- sObject Collections ---------------------------------------------------------------------------
# POST/PATCH /composite/sobjects save up to 200 records (in at most 10 runs of one object type) and answer 200
# with one SaveResult per record, in order; errors there use statusCode, not errorCode. With allOrNone every
# record is rolled back when one fails. GET/POST /composite/sobjects/{type} retrieve records of one type by id.

COLLECTION_LIMIT = 200
COLLECTION_CHUNKS = 10
RETRIEVE_LIMIT = 2000
ROLLED_BACK = "Record rolled back because not all records were valid and the request was using AllOrNone header"


def collection_create(ctx: Context, body: object, **_) -> Response:
    return _save_collection(ctx, body, creating=True)


def collection_update(ctx: Context, body: object, **_) -> Response:
    return _save_collection(ctx, body, creating=False)


def _save_collection(ctx: Context, body: object, creating: bool) -> Response:
    records, all_or_none = _collection_request(body)
    snapshot = ctx.org.snapshot() if all_or_none else None
    results = [_save_one(ctx, record, creating) for record in records]
    if all_or_none and any(not result["success"] for result in results):
        ctx.org.restore(snapshot)
        rolled_back = {
            "success": False,
            "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": ROLLED_BACK, "fields": []}],
        }
        results = [rolled_back if result["success"] else result for result in results]
    return Response(200, results)


def _collection_request(body: object) -> tuple[list[dict], bool]:
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise api_error(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of request: records must be a list")
    records = body["records"]
    if not records:
        raise api_error(400, "INVALID_INPUT", "records must contain at least one record")
    if len(records) > COLLECTION_LIMIT:
        raise api_error(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {COLLECTION_LIMIT} records into this call",
        )
    types = []
    for record in records:
        kind = (record.get("attributes") or {}).get("type") if isinstance(record, dict) else None
        if not isinstance(kind, str) or not kind:
            raise api_error(400, "INVALID_TYPE", "Must send a concrete entity type.")
        types.append(kind.lower())
    chunks = 1 + sum(1 for before, after in zip(types, types[1:], strict=False) if before != after)
    if chunks > COLLECTION_CHUNKS:
        raise api_error(
            400,
            "EXCEEDED_MAX_TYPES_LIMIT",
            f"A single request can process up to {COLLECTION_CHUNKS} chunks of one type",
        )
    return records, bool(body.get("allOrNone", False))


def _save_one(ctx: Context, record: dict, creating: bool) -> dict:
    """One record's SaveResult: its id on success, its own errors otherwise."""
    values = {key: value for key, value in record.items() if key.lower() not in ("attributes", "id")}
    record_id = next((str(value) for key, value in record.items() if key.lower() == "id"), "")
    try:
        name = _sobject_name(record["attributes"]["type"])
        if creating and record_id:
            raise api_error(400, "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
        if not creating and not record_id:
            raise api_error(400, "MISSING_ARGUMENT", "Id not specified in an update call", [])
        saved = _insert(ctx, name, values) if creating else _update_existing(ctx, name, record_id, values)
    except ApiError as failure:
        errors = [
            {"statusCode": e["errorCode"], "message": e["message"], "fields": e.get("fields") or []}
            for e in failure.errors
        ]
        return {"success": False, "errors": errors}
    return {"id": saved, "success": True, "errors": []}


def collection_retrieve(ctx: Context, sobject: str, params: dict, body: object, **_) -> Response:
    """GET with ?ids=&fields= (comma-separated) or POST with {"ids": [...], "fields": [...]}; null for unknown ids."""
    name = _sobject_name(sobject)
    if body is None:
        wanted = [part for part in (params.get("ids") or "").split(",") if part]
        requested = [part.strip() for part in (params.get("fields") or "").split(",") if part.strip()]
    else:
        source = body if isinstance(body, dict) else {}
        wanted, requested = source.get("ids"), source.get("fields")
        if not isinstance(wanted, list) or not isinstance(requested, list):
            raise api_error(400, "JSON_PARSER_ERROR", "ids and fields must be lists")
    if not wanted or not requested:
        raise api_error(400, "MISSING_ARGUMENT", "ids and fields are required")
    if len(wanted) > RETRIEVE_LIMIT:
        raise api_error(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {RETRIEVE_LIMIT} records into this call",
        )
    fields = ctx.org.field_map(name)
    unknown = [
        str(part) for part in requested if str(part).lower() not in fields or not fields[str(part).lower()].readable
    ]
    if unknown:
        raise api_error(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {name}")
    names = [fields[str(part).lower()].name for part in requested]
    found = []
    for record_id in wanted:
        hit = ctx.org.find_record(str(record_id))
        live = hit is not None and hit[0] == name and not hit[1]["IsDeleted"]
        found.append(record_json(ctx, name, hit[1], names) if live else None)
    return Response(200, found)


_RECORD = r"/sobjects/(?P<sobject>\w+)/(?P<record_id>\w+)"
_ROUTES = [
    (r"/", {"GET": resources}),
    (r"/limits", {"GET": limits}),
    (r"/query", {"GET": query}),
    (r"/query/(?P<locator>[\w-]+)", {"GET": query_more}),
    (r"/sobjects", {"GET": describe_global}),
    (r"/sobjects/(?P<sobject>\w+)", {"GET": sobject_info, "POST": create}),
    (r"/sobjects/(?P<sobject>\w+)/describe", {"GET": describe}),
    (_RECORD, {"GET": retrieve, "PATCH": update, "DELETE": delete}),
    (r"/composite/sobjects", {"POST": collection_create, "PATCH": collection_update}),
    (r"/composite/sobjects/(?P<sobject>\w+)", {"GET": collection_retrieve, "POST": collection_retrieve}),
]
