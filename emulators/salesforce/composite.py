"""The Composite resource: up to 25 subrequests (at most 5 queries) in one API call.

The overall status is always 200 once the request is well formed; each subrequest reports its own
httpStatusCode and body. ``@{ref.path}`` references read earlier results; with allOrNone a failure
rolls back every write and the other subrequests report PROCESSING_HALTED.
"""

import re
from urllib.parse import parse_qsl, urlsplit

from emulators.salesforce.dataapi import Context, Response, dispatch
from emulators.salesforce.errors import api_error

MAX_SUBREQUESTS = 25
MAX_QUERIES = 5
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)\.([^}]+)\}")
_REFERENCE_ID = re.compile(r"^[A-Za-z0-9_]+$")
_ROLLED_BACK = "The transaction was rolled back since another operation in the same transaction failed."


class UnresolvedReference(Exception):
    pass


def run_composite(ctx: Context, body: object) -> Response:
    subrequests, all_or_none = _validated(body)
    snapshot = ctx.org.snapshot() if all_or_none else None
    results: list[dict] = []
    outputs: dict[str, object] = {}
    failed_at = None
    for index, subrequest in enumerate(subrequests):
        result = _run_one(ctx, subrequest, outputs)
        results.append(result)
        if result["httpStatusCode"] >= 400:
            failed_at = index if failed_at is None else failed_at
            if all_or_none:
                break
        else:
            outputs[subrequest["referenceId"]] = result["body"]
    if all_or_none and failed_at is not None:
        ctx.org.restore(snapshot)
        results = [
            results[index] if index == failed_at else _halted(sub["referenceId"], _ROLLED_BACK)
            for index, sub in enumerate(subrequests)
        ]
    return Response(200, {"compositeResponse": results})


def _validated(body: object) -> tuple[list[dict], bool]:
    if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
        raise api_error(400, "JSON_PARSER_ERROR", "Composite request body must contain a compositeRequest array")
    subrequests = body["compositeRequest"]
    if not subrequests:
        raise api_error(400, "INVALID_INPUT", "compositeRequest must contain at least one subrequest")
    if len(subrequests) > MAX_SUBREQUESTS:
        raise api_error(
            400, "LIMIT_EXCEEDED", f"Limit Exceeded: Composite request can have at most {MAX_SUBREQUESTS} subrequests"
        )
    seen = set()
    for subrequest in subrequests:
        _check_subrequest_shape(subrequest, seen)
    queries = sum(1 for sub in subrequests if sub["method"].upper() == "GET" and "/query" in urlsplit(sub["url"]).path)
    if queries > MAX_QUERIES:
        raise api_error(
            400, "LIMIT_EXCEEDED", f"Limit Exceeded: Composite request can have at most {MAX_QUERIES} query subrequests"
        )
    return subrequests, bool(body.get("allOrNone", False))


def _check_subrequest_shape(subrequest: object, seen: set) -> None:
    if not isinstance(subrequest, dict):
        raise api_error(400, "JSON_PARSER_ERROR", "Each subrequest must be a JSON object")
    for key in ("method", "url", "referenceId"):
        if not isinstance(subrequest.get(key), str) or not subrequest[key]:
            raise api_error(400, "INVALID_INPUT", f"Subrequest is missing required field: {key}")
    reference = subrequest["referenceId"]
    if not _REFERENCE_ID.match(reference):
        raise api_error(400, "INVALID_INPUT", f"Invalid referenceId: {reference}")
    if reference in seen:
        raise api_error(400, "INVALID_INPUT", f"Duplicate referenceId provided in the request: {reference}")
    seen.add(reference)


def _run_one(ctx: Context, subrequest: dict, outputs: dict) -> dict:
    reference = subrequest["referenceId"]
    try:
        url = _resolve_text(subrequest["url"], outputs)
        body = _resolve_value(subrequest.get("body"), outputs)
    except UnresolvedReference as missing:
        return _halted(reference, str(missing))
    parts = urlsplit(url)
    if parts.path.rstrip("/").endswith("/composite"):
        response = Response(400, [{"errorCode": "INVALID_INPUT", "message": "Composite requests cannot be nested"}])
    else:
        extra = subrequest.get("httpHeaders")
        headers = {**ctx.headers, **(extra if isinstance(extra, dict) else {})}
        sub_ctx = Context(ctx.org, headers, ctx.outer_path)
        response = dispatch(sub_ctx, subrequest["method"].upper(), parts.path, dict(parse_qsl(parts.query)), body)
    return {
        "body": response.body,
        "httpHeaders": response.headers,
        "httpStatusCode": response.status,
        "referenceId": reference,
    }


def _halted(reference: str, message: str) -> dict:
    return {
        "body": [{"errorCode": "PROCESSING_HALTED", "message": message}],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": reference,
    }


def _resolve_text(text: str, outputs: dict) -> str:
    return _REFERENCE.sub(lambda match: str(_lookup(match, outputs)), text)


def _resolve_value(value: object, outputs: dict) -> object:
    """Replace references inside a body; a string that is exactly one reference keeps the value's type."""
    if isinstance(value, dict):
        return {key: _resolve_value(item, outputs) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve_value(item, outputs) for item in value]
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        return _lookup(whole, outputs) if whole else _resolve_text(value, outputs)
    return value


def _lookup(match: re.Match, outputs: dict) -> object:
    reference, path = match.group(1), match.group(2)
    value = outputs.get(reference)
    for step in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        value = _step(value, step)
        if value is None:
            break
    if value is None:
        raise UnresolvedReference(
            f"Invalid reference specified. No value for {reference}.{path} found in {reference}. "
            f"Provided referenceId ('{reference}') must match a successfully completed subrequest."
        )
    return value


def _step(value: object, step: str) -> object:
    if step.startswith("["):
        index = int(step[1:-1])
        return value[index] if isinstance(value, list) and index < len(value) else None
    return value.get(step) if isinstance(value, dict) else None
