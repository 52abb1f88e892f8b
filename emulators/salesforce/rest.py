"""HTTP layer of the data API on the instance host: sessions, API limits and Sforce-Limit-Info.

Every authenticated request under /services/data/vXX.X counts as one API call (a Composite request
included, whatever its subrequests); the versions list needs no session and is free.
"""

import json

from flask import Blueprint, Response, current_app, request

from emulators.salesforce.composite import run_composite
from emulators.salesforce.dataapi import Context, dispatch, is_composite_path, versions_list
from emulators.salesforce.dataapi import Response as ApiResponse
from emulators.salesforce.errors import ApiError, api_error, invalid_session
from emulators.salesforce.org import AccessToken, Org

blueprint = Blueprint("salesforce_rest", __name__)
JSON_TYPE = "application/json;charset=UTF-8"


def json_response(status: int, body: object, headers: dict | None = None) -> Response:
    payload = "" if body is None and status == 204 else json.dumps(body, ensure_ascii=False)
    return Response(payload, status=status, headers=headers or {}, content_type=JSON_TYPE)


def org() -> Org:
    return current_app.config["ORG"]


@blueprint.get("/services/data")
@blueprint.get("/services/data/")
def versions() -> Response:
    return json_response(200, versions_list())


@blueprint.route("/services/data/<path:rest>", methods=["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD"])
def data(rest: str) -> Response:
    state = org()
    authenticated = False
    try:
        with state.lock:
            token = _authenticate(state)
            authenticated = True
            _admit_api_call(state, token)
        request.environ["emulator.api_call"] = True
        result = _serve(state)
    except ApiError as failure:
        result = ApiResponse(failure.status, failure.errors)
    headers = dict(result.headers)
    if authenticated:
        limit = state.settings["daily_api_limit"]
        headers["Sforce-Limit-Info"] = f"api-usage={state.api_calls}/{limit}"
    return json_response(result.status, result.body, headers)


def _serve(state: Org) -> ApiResponse:
    body = _json_body()
    ctx = Context(state, dict(request.headers), request.path)
    with state.lock:
        if request.method == "POST" and is_composite_path(request.path):
            return run_composite(ctx, body)
        return dispatch(ctx, request.method, request.path, request.args.to_dict(), body)


def _json_body() -> object:
    if request.method not in {"POST", "PATCH", "PUT"}:
        return None
    raw = request.get_data(as_text=True)
    if not raw.strip():
        raise api_error(400, "JSON_PARSER_ERROR", "No content to map due to end-of-input at [line:1, column:0]")
    try:
        return json.loads(raw)
    except ValueError as problem:
        raise api_error(
            400,
            "JSON_PARSER_ERROR",
            f"Unexpected character: {problem.msg} at [line:{problem.lineno}, column:{problem.colno}]",
        ) from None


def _authenticate(state: Org) -> AccessToken:
    header = request.headers.get("Authorization", "")
    if not header:
        raise invalid_session()
    scheme, _, value = header.partition(" ")
    if scheme.lower() not in {"bearer", "oauth"} or not value.strip():
        raise api_error(401, "INVALID_AUTH_HEADER", "INVALID_HEADER_TYPE")
    token = state.access_tokens.get(value.strip())
    if token is None or not state.access_token_is_live(token):
        raise invalid_session()
    if not {"api", "full"} & set(token.scopes):
        raise api_error(403, "INVALID_SESSION_ID", "This session is not valid for use with the REST API")
    return token


def _admit_api_call(state: Org, token: AccessToken) -> None:
    """Refuse when the org has no API or its daily limit is used up; otherwise count the call."""
    if not state.settings["api_enabled"]:
        raise api_error(403, "API_DISABLED_FOR_ORG", "The REST API is not enabled for this Organization.")
    if state.api_calls >= state.settings["daily_api_limit"]:
        raise api_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    state.api_calls += 1
    token.calls += 1
