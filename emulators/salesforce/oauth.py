"""OAuth 2.0 on the login hosts: authorize pages, token and refresh grants, revoke, identity, userinfo.

Errors of the token and revoke endpoints are {"error", "error_description"} objects (HTTP 400);
the identity URL and userinfo answer 403 with a plain-text code such as Bad_OAuth_Token.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, abort, current_app, redirect, request

from emulators.salesforce import pages
from emulators.salesforce.org import AccessToken, AuthorizationCode, ConnectedApp, Org
from emulators.salesforce.tokens import identity_url, jwks, token_response

blueprint = Blueprint("salesforce_oauth", __name__)
KNOWN_SCOPES = {
    "api",
    "id",
    "refresh_token",
    "offline_access",
    "openid",
    "web",
    "full",
    "profile",
    "email",
    "address",
    "phone",
}
_NO_STORE = {"Cache-Control": "no-cache,must-revalidate,max-age=0,no-store,private", "Pragma": "no-cache"}


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


def org() -> Org:
    return current_app.config["ORG"]


def listener() -> str:
    return current_app.config["LISTENER"]


def login_host_only() -> None:
    if current_app.config["KIND"] != "login":
        abort(404)


def _json(status: int, body: object) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json;charset=UTF-8", headers=_NO_STORE)


@blueprint.errorhandler(OAuthError)
def oauth_error(failure: OAuthError) -> Response:
    return _json(failure.status, {"error": failure.error, "error_description": failure.description})


# -- authorize ---------------------------------------------------------------------------------


@blueprint.get("/services/oauth2/authorize")
def authorize() -> Response | str:
    login_host_only()
    state = org()
    with state.lock:
        app = state.apps.get(request.args.get("client_id", ""))
        if app is None:
            return pages.error_page("invalid_client_id", "client identifier invalid"), 400
        redirect_uri = request.args.get("redirect_uri", "")
        if not _callback_allowed(app, redirect_uri):
            return pages.error_page("redirect_uri_mismatch", "redirect_uri must match configuration"), 400
        params = request.args.to_dict()
        problem = _authorize_problem(app, params)
        if problem:
            return _redirect_back(params, {"error": problem[0], "error_description": problem[1]})
        pending = secrets.token_urlsafe(16)
        state.pending_logins[pending] = {"params": params, "user_id": None, "username": ""}
    return pages.login_page(pending, app.client_id)


def _callback_allowed(app: ConnectedApp, redirect_uri: str) -> bool:
    if redirect_uri in app.callback_urls:
        return True
    parts = urlsplit(redirect_uri)
    return app.any_loopback_callback and parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost"}


def _authorize_problem(app: ConnectedApp, params: dict) -> tuple[str, str] | None:
    if params.get("response_type") != "code":
        return "unsupported_response_type", "response type not supported"
    method = params.get("code_challenge_method", "S256")
    if params.get("code_challenge") and method != "S256":
        return "invalid_request", "invalid code_challenge_method"
    scopes = _requested_scopes(app, params)
    if not set(scopes) <= KNOWN_SCOPES or not set(scopes) <= set(app.scopes):
        return "invalid_scope", "the requested scope is not allowed"
    return None


def _requested_scopes(app: ConnectedApp, params: dict) -> list[str]:
    """Without a scope parameter Salesforce grants the connected app's selected scopes."""
    requested = params.get("scope", "").replace("+", " ").split()
    return requested or list(app.scopes)


def _redirect_back(params: dict, values: dict) -> Response:
    if params.get("state") is not None:
        values["state"] = params["state"]
    separator = "&" if "?" in params["redirect_uri"] else "?"
    return redirect(params["redirect_uri"] + separator + urlencode(values), code=302)


@blueprint.post("/services/oauth2/authorize")
def authorize_step() -> Response | str:
    login_host_only()
    state = org()
    with state.lock:
        pending = state.pending_logins.get(request.form.get("pending", ""))
        if pending is None:
            return pages.error_page("invalid_request", "the authorization request expired; start again"), 400
        app = state.apps[pending["params"]["client_id"]]
        if request.form.get("step") == "decision" and pending["user_id"]:
            return _decide(state, app, pending)
        return _log_in(state, app, pending)


def _log_in(state: Org, app: ConnectedApp, pending: dict) -> str:
    username = request.form.get("username", "").strip()
    login = state.logins.get(username.lower())
    pending_id = request.form["pending"]
    if login is None or not hmac.compare_digest(login.password, request.form.get("password", "")):
        message = (
            "Please check your username and password. If you still can't log in, contact your Salesforce administrator."
        )
        return pages.login_page(pending_id, app.client_id, username, message)
    pending.update(user_id=login.user_id, username=login.username)
    return pages.approve_page(pending_id, app.client_id, login.username, _requested_scopes(app, pending["params"]))


def _decide(state: Org, app: ConnectedApp, pending: dict) -> Response:
    params = pending["params"]
    del state.pending_logins[request.form["pending"]]
    if request.form.get("decision") != "allow":
        return _redirect_back(params, {"error": "access_denied", "error_description": "end-user denied authorization"})
    code = AuthorizationCode(
        code="aPrx" + secrets.token_urlsafe(48) + "==",
        client_id=app.client_id,
        redirect_uri=params["redirect_uri"],
        user_id=pending["user_id"],
        scopes=_requested_scopes(app, params),
        login_listener=listener(),
        code_challenge=params.get("code_challenge"),
        code_challenge_method=params.get("code_challenge_method", "S256"),
        expires_at=time.time() + state.settings["authorization_code_ttl_seconds"],
    )
    state.codes[code.code] = code
    return _redirect_back(params, {"code": code.code})


# -- token -------------------------------------------------------------------------------------


@blueprint.post("/services/oauth2/token")
def token() -> Response:
    state = org()
    with state.lock:
        app = _client(state)
        grant = request.form.get("grant_type")
        if grant == "authorization_code":
            return _json(200, _code_grant(state, app))
        if grant == "refresh_token":
            return _json(200, _refresh_grant(state, app))
        raise OAuthError("unsupported_grant_type", "grant type not supported")


def _client(state: Org) -> ConnectedApp:
    """Client authentication by form fields or HTTP Basic, as Salesforce accepts both."""
    client_id = request.form.get("client_id")
    secret = request.form.get("client_secret")
    if request.authorization and request.authorization.type == "basic":
        client_id, secret = request.authorization.username, request.authorization.password
    app = state.apps.get(client_id or "")
    if app is None:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    if secret is None or not hmac.compare_digest(secret, app.client_secret):
        raise OAuthError("invalid_client", "invalid client credentials")
    return app


def _code_grant(state: Org, app: ConnectedApp) -> dict:
    code = state.codes.get(request.form.get("code", ""))
    if code is None or code.client_id != app.client_id or not _same_org_host(code.login_listener):
        raise OAuthError("invalid_grant", "invalid authorization code")
    if code.used or time.time() >= code.expires_at:
        raise OAuthError("invalid_grant", "expired authorization code")
    code.used = True  # single use, even when the exchange below fails
    if request.form.get("redirect_uri") != code.redirect_uri:
        raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
    if code.code_challenge and not _verifier_matches(request.form.get("code_verifier", ""), code.code_challenge):
        raise OAuthError("invalid_grant", "invalid code verifier")
    refresh = None
    if {"refresh_token", "offline_access"} & set(code.scopes):
        refresh = state.issue_refresh_token(app.client_id, code.user_id, code.scopes, code.login_listener)
    access = state.issue_access_token(
        app.client_id, code.user_id, code.scopes, code.login_listener, refresh and refresh.token
    )
    return token_response(state, app, access, refresh and refresh.token)


def _same_org_host(issuing_listener: str) -> bool:
    """Codes and refresh tokens are redeemed at the login host that issued them or the org's own host."""
    return listener() in {issuing_listener, "instance"}


def _verifier_matches(verifier: str, challenge: str) -> bool:
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return bool(verifier) and hmac.compare_digest(digest, challenge)


def _refresh_grant(state: Org, app: ConnectedApp) -> dict:
    refresh = state.refresh_tokens.get(request.form.get("refresh_token", ""))
    if (
        refresh is None
        or refresh.revoked
        or refresh.client_id != app.client_id
        or not _same_org_host(refresh.login_listener)
    ):
        raise OAuthError("invalid_grant", "expired access/refresh token")
    returned = None
    if state.settings["refresh_token_rotation"]:
        refresh.revoked = True  # the old refresh token dies; its access tokens stay valid until they expire
        refresh = state.issue_refresh_token(app.client_id, refresh.user_id, refresh.scopes, refresh.login_listener)
        returned = refresh.token
    access = state.issue_access_token(
        app.client_id, refresh.user_id, refresh.scopes, refresh.login_listener, refresh.token
    )
    return token_response(state, app, access, returned)


# -- revoke ------------------------------------------------------------------------------------


@blueprint.route("/services/oauth2/revoke", methods=["GET", "POST"])
def revoke() -> Response:
    value = request.values.get("token", "")
    state = org()
    with state.lock:
        if not value:
            raise OAuthError("unsupported_token_type", "unsupported token type")
        if value in state.refresh_tokens and not state.refresh_tokens[value].revoked:
            state.revoke_refresh_token(state.refresh_tokens[value])
        elif value in state.access_tokens and not state.access_tokens[value].revoked:
            state.access_tokens[value].revoked = True
        else:
            raise OAuthError("invalid_token", "invalid token")
    return Response("", status=200)


# -- identity and userinfo ---------------------------------------------------------------------


def _bearer(state: Org) -> AccessToken:
    header = request.headers.get("Authorization", "")
    value = header.partition(" ")[2].strip() if header.lower().startswith(("bearer ", "oauth ")) else ""
    value = value or request.values.get("oauth_token", "")
    if not value:
        abort(_plain(403, "Missing_OAuth_Token"))
    access = state.access_tokens.get(value)
    if access is None or not state.access_token_is_live(access):
        abort(_plain(403, "Bad_OAuth_Token"))
    return access


def _plain(status: int, text: str) -> Response:
    return Response(text, status=status, content_type="text/plain;charset=UTF-8")


@blueprint.route("/id/<org_id>/<user_id>", methods=["GET", "POST"])
def identity(org_id: str, user_id: str) -> Response:
    login_host_only()
    state = org()
    with state.lock:
        access = _bearer(state)
        if not {"id", "full"} & set(access.scopes) or access.login_listener != listener():
            return _plain(403, "Bad_OAuth_Token")
        if org_id[:15] != state.org_id[:15]:
            return _plain(403, "Wrong_Org")
        if user_id[:15] != access.user_id[:15]:
            return _plain(404, "Bad_Id")
        return _json(200, _identity_body(state, access))


def _identity_body(state: Org, access: AccessToken) -> dict:
    user = state.records["User"][access.user_id]
    instance = state.urls["instance"]
    org15 = state.org_id[:15]
    return {
        "id": identity_url(state, access.login_listener, access.user_id),
        "asserted_user": True,
        "user_id": access.user_id,
        "organization_id": state.org_id,
        "username": user["Username"],
        "nick_name": user["Username"].split("@")[0],
        "display_name": user["Name"],
        "email": user["Email"],
        "email_verified": True,
        "first_name": user["FirstName"],
        "last_name": user["LastName"],
        "timezone": user["TimeZoneSidKey"],
        "photos": {"picture": f"{instance}/profilephoto/005/F", "thumbnail": f"{instance}/profilephoto/005/T"},
        "addr_street": None,
        "addr_city": None,
        "addr_state": None,
        "addr_country": None,
        "addr_zip": None,
        "mobile_phone": None,
        "mobile_phone_verified": False,
        "is_lightning_login_user": False,
        "status": {"created_date": None, "body": None},
        "urls": _service_urls(instance, org15, access.user_id),
        "active": user["IsActive"],
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "last_modified_date": user["LastModifiedDate"],
        "is_app_installed": True,
    }


def _service_urls(instance: str, org15: str, user_id: str) -> dict:
    return {
        "enterprise": f"{instance}/services/Soap/c/{{version}}/{org15}",
        "metadata": f"{instance}/services/Soap/m/{{version}}/{org15}",
        "partner": f"{instance}/services/Soap/u/{{version}}/{org15}",
        "rest": f"{instance}/services/data/v{{version}}/",
        "sobjects": f"{instance}/services/data/v{{version}}/sobjects/",
        "search": f"{instance}/services/data/v{{version}}/search/",
        "query": f"{instance}/services/data/v{{version}}/query/",
        "recent": f"{instance}/services/data/v{{version}}/recent/",
        "profile": f"{instance}/{user_id}",
        "custom_domain": instance,
    }


@blueprint.route("/services/oauth2/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    state = org()
    with state.lock:
        access = _bearer(state)
        if not {"openid", "id", "full"} & set(access.scopes):
            return _plain(403, "Bad_OAuth_Token")
        body = _identity_body(state, access)
    claims = {
        "sub": body["id"],
        "user_id": body["user_id"],
        "organization_id": body["organization_id"],
        "preferred_username": body["username"],
        "nickname": body["nick_name"],
        "name": body["display_name"],
        "email": body["email"],
        "email_verified": True,
        "given_name": body["first_name"],
        "family_name": body["last_name"],
        "zoneinfo": body["timezone"],
        "photos": body["photos"],
        "profile": body["urls"]["profile"],
        "picture": body["photos"]["picture"],
        "urls": body["urls"],
        "active": body["active"],
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "updated_at": body["last_modified_date"],
        "is_app_installed": True,
    }
    return _json(200, claims)


@blueprint.get("/id/keys")
def keys() -> Response:
    login_host_only()
    return _json(200, jwks())
