"""The control API under /__emulator__/ (a path no real client uses), served on every listener.

JSON in, JSON out; bad input is a 400 {"error": ...}. Also the HTML records browser.
"""

import json
from dataclasses import asdict

from flask import Blueprint, Response, current_app, request

from emulators.salesforce import faults, pages
from emulators.salesforce.errors import ApiError
from emulators.salesforce.metadata import STANDARD_FIELDS
from emulators.salesforce.org import DEFAULT_APP_SCOPES, DEFAULT_SETTINGS, Org
from emulators.salesforce.rules import coerce
from emulators.salesforce.tokens import token_response

blueprint = Blueprint("salesforce_control", __name__, url_prefix="/__emulator__")


class ControlError(Exception):
    pass


def org() -> Org:
    return current_app.config["ORG"]


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


@blueprint.errorhandler(ControlError)
def control_error(failure: ControlError) -> Response:
    return _json({"error": str(failure)}, 400)


def _body() -> dict:
    body = request.get_json(silent=True)
    if body is None and request.get_data():
        raise ControlError("the body must be JSON")
    if body is not None and not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    return body or {}


def _required(body: dict, *names: str, kind: type = str) -> list:
    missing = [name for name in names if not isinstance(body.get(name), kind) or not body[name]]
    if missing:
        raise ControlError(f"missing or of the wrong type: {', '.join(missing)}")
    return [body[name] for name in names]


def _optional_text(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ControlError(f"{name} must be a string")
    return value


@blueprint.get("/")
def summary() -> Response:
    state = org()
    with state.lock:
        return _json({"org_id": state.org_id, "urls": state.urls, "admin_user_id": state.admin_user_id})


@blueprint.post("/reset")
def reset() -> Response:
    org().reset()
    return _json({"ok": True})


# -- records and users -------------------------------------------------------------------------


@blueprint.post("/records")
def seed_record() -> Response:
    """Store a record as-is (no rules), system fields filled in; read-only fields may be set."""
    body = _body()
    (sobject,) = _required(body, "object")
    (fields,) = _required(body, "fields", kind=dict)
    state = org()
    with state.lock:
        if sobject not in STANDARD_FIELDS or sobject == "User":
            raise ControlError("object must be Lead, Contact, Event or Account (use /users for users)")
        return _json({"id": state.insert_record(sobject, _coerced(state, sobject, fields))}, 201)


def _coerced(state: Org, sobject: str, fields: dict) -> dict:
    known = state.field_map(sobject)
    values = {}
    for name, raw in fields.items():
        if name.lower() not in known:
            raise ControlError(f"unknown field {sobject}.{name}")
        try:
            values[known[name.lower()].name] = coerce(known[name.lower()], raw)
        except ApiError as problem:
            raise ControlError(f"bad value for {sobject}.{name}") from problem
    return values


@blueprint.get("/records")
def records_browser() -> Response:
    state = org()
    with state.lock:
        tables = [(name, [dict(r) for r in state.records[name].values()]) for name in pages.RECORD_PAGE_OBJECTS]
        html = pages.records_page(state.org_id, state.api_calls, state.settings["daily_api_limit"], tables)
    return Response(html, content_type="text/html; charset=utf-8")


@blueprint.get("/records.json")
def records_json() -> Response:
    state = org()
    with state.lock:
        wanted = request.args.get("object")
        names = [wanted] if wanted in STANDARD_FIELDS else list(STANDARD_FIELDS)
        return _json({name: list(state.records[name].values()) for name in names})


@blueprint.get("/records/<record_id>")
def record(record_id: str) -> Response:
    state = org()
    with state.lock:
        found = state.find_record(record_id)
        if found is None:
            return _json({"error": "no such record"}, 404)
        return _json({"object": found[0], "fields": found[1]})


@blueprint.post("/users")
def add_user() -> Response:
    body = _body()
    (username,) = _required(body, "username")
    state = org()
    with state.lock:
        user_id = state.add_user(
            username,
            password=_optional_text(body, "password"),
            email=_optional_text(body, "email"),
            first_name=_optional_text(body, "first_name"),
            last_name=_optional_text(body, "last_name") or "User",
            time_zone=_optional_text(body, "time_zone") or "GMT",
            active=body.get("active") is not False,
        )
    return _json({"id": user_id}, 201)


@blueprint.post("/leads/<lead_id>/convert")
def convert_lead(lead_id: str) -> Response:
    state = org()
    with state.lock:
        try:
            return _json(state.convert_lead(lead_id))
        except KeyError:
            return _json({"error": "no such lead"}, 404)
        except ValueError as problem:
            raise ControlError(str(problem)) from None


@blueprint.delete("/records/<record_id>")
def delete_record(record_id: str) -> Response:
    state = org()
    with state.lock:
        try:
            state.delete_record(record_id)
        except KeyError:
            return _json({"error": "no such live record"}, 404)
    return _json({"ok": True})


@blueprint.post("/records/<master_id>/merge")
def merge_records(master_id: str) -> Response:
    body = _body()
    victims = body.get("victims")
    if not isinstance(victims, list) or not all(isinstance(v, str) for v in victims):
        raise ControlError("victims must be a list of record ids")
    state = org()
    with state.lock:
        try:
            state.merge_records(master_id, victims)
        except KeyError:
            return _json({"error": "no such live record"}, 404)
        except ValueError as problem:
            raise ControlError(str(problem)) from None
    return _json({"ok": True})


# -- apps, tokens and settings -----------------------------------------------------------------


@blueprint.post("/apps")
def register_app() -> Response:
    body = _body()
    client_id, client_secret = _required(body, "client_id", "client_secret")
    callbacks = body.get("callback_urls", [])
    scopes = body.get("scopes", list(DEFAULT_APP_SCOPES))
    for name, value in (("callback_urls", callbacks), ("scopes", scopes)):
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ControlError(f"{name} must be a list of strings")
    app = org().register_app(client_id, client_secret, callbacks, tuple(scopes))
    return _json(asdict(app), 201)


@blueprint.post("/tokens")
def issue_tokens() -> Response:
    """Mint tokens for a user without the browser flow, as if the code grant had just run."""
    body = _body()
    state = org()
    with state.lock:
        username = _optional_text(body, "username") or state.records["User"][state.admin_user_id]["Username"]
        login = state.logins.get(username.lower())
        app = state.apps.get(_optional_text(body, "client_id") or "emulator-client-id")
        listener = _optional_text(body, "listener") or "production"
        if login is None or app is None or listener not in state.urls or listener == "instance":
            raise ControlError("unknown username, client_id or login listener")
        scopes = (_optional_text(body, "scope") or "api id refresh_token").split()
        refresh = (
            state.issue_refresh_token(app.client_id, login.user_id, scopes, listener)
            if "refresh_token" in scopes
            else None
        )
        access = state.issue_access_token(app.client_id, login.user_id, scopes, listener, refresh and refresh.token)
        return _json(token_response(state, app, access, refresh and refresh.token))


@blueprint.post("/tokens/revoke-all")
def revoke_all_tokens() -> Response:
    state = org()
    with state.lock:
        state.revoke_all_tokens()
    return _json({"ok": True})


@blueprint.post("/tokens/expire-access")
def expire_access_tokens() -> Response:
    state = org()
    with state.lock:
        state.expire_access_tokens()
    return _json({"ok": True})


@blueprint.get("/settings")
def settings() -> Response:
    state = org()
    with state.lock:
        return _json(state.settings)


@blueprint.patch("/settings")
def update_settings() -> Response:
    body = _body()
    unknown = set(body) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ControlError(f"unknown settings: {', '.join(sorted(unknown))}")
    _check_settings(body)
    state = org()
    with state.lock:
        state.settings.update(body)
        return _json(state.settings)


def _check_settings(body: dict) -> None:
    for name in ("duplicate_rules", "field_permissions"):
        if not isinstance(body.get(name, {}), dict):
            raise ControlError(f"{name} must be an object")
    for name in ("validation_rules", "custom_fields"):
        if not isinstance(body.get(name, []), list) or not all(isinstance(item, dict) for item in body.get(name, [])):
            raise ControlError(f"{name} must be a list of objects")
    modes = body.get("duplicate_rules", {})
    if not isinstance(modes, dict) or not set(modes.values()) <= {"off", "alert", "block"}:
        raise ControlError("duplicate_rules maps an object to off, alert or block")
    for spec in body.get("custom_fields", []):
        if (
            not isinstance(spec, dict)
            or spec.get("object") not in STANDARD_FIELDS
            or not str(spec.get("name", "")).endswith("__c")
        ):
            raise ControlError("a custom field needs an object and a name ending in __c")
    for name in (
        "access_token_ttl_seconds",
        "access_token_max_calls",
        "daily_api_limit",
        "latency_ms",
        "query_batch_size",
    ):
        value = body.get(name)
        if name in body and value is not None and (not isinstance(value, int) or value < 0):
            raise ControlError(f"{name} must be a non-negative integer or null")


# -- faults, log and usage ---------------------------------------------------------------------


@blueprint.post("/faults")
def add_fault() -> Response:
    try:
        rule = faults.validate_rule(_body())
    except (ValueError, TypeError) as problem:
        raise ControlError(str(problem)) from None
    state = org()
    with state.lock:
        state.faults.append(rule)
        return _json(state.faults, 201)


@blueprint.get("/faults")
def list_faults() -> Response:
    state = org()
    with state.lock:
        return _json(state.faults)


@blueprint.delete("/faults")
def clear_faults() -> Response:
    state = org()
    with state.lock:
        state.faults.clear()
    return _json({"ok": True})


@blueprint.get("/log")
def request_log() -> Response:
    state = org()
    since = request.args.get("since", "0")
    if not since.isdigit():
        raise ControlError("since must be a number")
    with state.lock:
        entries = [asdict(entry) for entry in state.log if entry.seq > int(since)]
        return _json({"entries": entries, "api_calls": state.api_calls})


@blueprint.delete("/log")
def clear_log() -> Response:
    state = org()
    with state.lock:
        state.log.clear()
    return _json({"ok": True})


@blueprint.get("/usage")
def usage() -> Response:
    state = org()
    with state.lock:
        return _json({"api_calls": state.api_calls, "daily_api_limit": state.settings["daily_api_limit"]})


@blueprint.put("/usage")
def set_usage() -> Response:
    calls = _body().get("api_calls")
    if not isinstance(calls, int) or calls < 0:
        raise ControlError("api_calls must be a non-negative integer")
    state = org()
    with state.lock:
        state.api_calls = calls
    return _json({"api_calls": calls})
