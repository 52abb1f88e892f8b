"""HTTP endpoints of emulated Google and Microsoft: discovery, JWKS, authorize, account page, token, userinfo."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request

from .accounts import AccountForm, form_values
from .dialect import Dialect, OAuthError
from .flow import (
    AuthorizationError,
    bearer_token,
    cancelled_sign_in,
    carried_parameters,
    complete_sign_in,
    exchange_code,
    read_authorization_request,
)
from .google import GoogleDialect
from .microsoft import MicrosoftDialect
from .provider import AuthorizationRequest, IdentityProvider

bp = Blueprint("identity", __name__)

PAGE_ENDPOINTS = frozenset({"identity.microsoft_authorize", "identity.microsoft_account"})


class UnknownAuthority(Exception):
    """A Microsoft URL names neither common, organizations, consumers nor a tenant GUID."""


def provider() -> IdentityProvider:
    return current_app.extensions["identity_provider"]


def google() -> GoogleDialect:
    return GoogleDialect(provider().base_url)


def microsoft(authority: str = "common") -> MicrosoftDialect:
    try:
        return MicrosoftDialect(provider().base_url, authority, provider().settings.default_tenant_id)
    except ValueError as unknown:
        raise UnknownAuthority(str(unknown)) from None


@bp.errorhandler(UnknownAuthority)
def unknown_authority(problem: UnknownAuthority) -> Any:
    error = OAuthError("invalid_tenant", str(problem), code=90002)
    if request.endpoint in PAGE_ENDPOINTS:
        return error_page(microsoft(), error)
    return json_response(microsoft().error_body(error), 400)


@bp.get("/")
def index() -> str:
    providers = [
        {"label": d.label, "discovery_url": d.discovery_url, "issuer": d.issuer, "client": provider().client(d.name)}
        for d in (google(), microsoft())
    ]
    control_url = provider().base_url + "/__emulator__/"
    return render_template("identity/index.html", providers=providers, control_url=control_url)


@bp.get("/google/.well-known/openid-configuration")
def google_discovery() -> Response:
    return json_response(google().discovery())


@bp.get("/microsoft/<authority>/v2.0/.well-known/openid-configuration")
def microsoft_discovery(authority: str) -> Response:
    return json_response(microsoft(authority).discovery())


@bp.get("/google/oauth2/v3/certs")
def google_keys() -> Response:
    return keys_response(google())


@bp.get("/microsoft/<authority>/discovery/v2.0/keys")
def microsoft_keys(authority: str) -> Response:
    return keys_response(microsoft(authority))


@bp.route("/google/o/oauth2/v2/auth", methods=["GET", "POST"])
def google_authorize() -> Any:
    return authorize(google())


@bp.route("/microsoft/<authority>/oauth2/v2.0/authorize", methods=["GET", "POST"])
def microsoft_authorize(authority: str) -> Any:
    return authorize(microsoft(authority))


@bp.post("/google/account")
def google_account() -> Any:
    return submit_account(google())


@bp.post("/microsoft/<authority>/account")
def microsoft_account(authority: str) -> Any:
    return submit_account(microsoft(authority))


@bp.post("/google/token")
def google_token() -> Response:
    return token(google())


@bp.post("/microsoft/<authority>/oauth2/v2.0/token")
def microsoft_token(authority: str) -> Response:
    return token(microsoft(authority))


@bp.route("/google/v1/userinfo", methods=["GET", "POST"])
def google_userinfo() -> Response:
    return userinfo(google())


@bp.route("/microsoft/oidc/userinfo", methods=["GET", "POST"])
def microsoft_userinfo() -> Response:
    return userinfo(microsoft())


def keys_response(dialect: Dialect) -> Response:
    return json_response(dialect.published_keys(provider().keys[dialect.name].jwks()))


def authorize(dialect: Dialect) -> Any:
    """OpenID Connect allows the authorization request as a query or as a form POST."""
    params = request.form if request.method == "POST" else request.args
    try:
        auth_request = read_authorization_request(provider(), dialect, params)
    except AuthorizationError as error:
        return authorization_failure(dialect, error)
    return account_page(dialect, auth_request, dialect.initial_account_values(auth_request), {})


def submit_account(dialect: Dialect) -> Any:
    try:
        auth_request = read_authorization_request(provider(), dialect, request.form)
    except AuthorizationError as error:
        return authorization_failure(dialect, error)
    if request.form.get("action") == "cancel":
        return redirect(cancelled_sign_in(auth_request))
    form = AccountForm(form_values(request.form, dialect.account_fields))
    account = dialect.read_account(form)
    if form.errors:
        return account_page(dialect, auth_request, form.values, form.errors, status=400)
    return redirect(complete_sign_in(provider(), dialect, auth_request, account))


def account_page(
    dialect: Dialect,
    auth_request: AuthorizationRequest,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> tuple[str, int]:
    page = render_template(
        "identity/account.html",
        dialect=dialect,
        client_id=auth_request.client_id,
        carried=carried_parameters(auth_request),
        values=values,
        errors=errors,
    )
    return page, status


def authorization_failure(dialect: Dialect, error: AuthorizationError) -> Any:
    if error.redirect_uri:
        return redirect(error.redirect_url())
    return error_page(dialect, error)


def error_page(dialect: Dialect, error: OAuthError) -> tuple[str, int]:
    heading, message = dialect.error_page(error)
    page = render_template("identity/error.html", dialect=dialect, heading=heading, message=message)
    return page, error.status


def token(dialect: Dialect) -> Response:
    try:
        body = exchange_code(provider(), dialect, request.form, request.headers.get("Authorization"))
    except OAuthError as error:
        response = json_response(dialect.error_body(error), error.status)
        if error.status == 401 and request.headers.get("Authorization"):
            response.headers["WWW-Authenticate"] = 'Basic realm="token"'  # RFC 6749 5.2
        return response
    response = json_response(body)
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 5.1
    response.headers["Pragma"] = "no-cache"
    return response


def userinfo(dialect: Dialect) -> Response:
    access_token = bearer_token(request.headers.get("Authorization"))
    access = provider().access_grant(access_token, dialect.name) if access_token else None
    if access is None:
        response = json_response(dialect.invalid_token_body(), 401)
        # RFC 6750 3.1: no error code when the request carried no token at all.
        challenge = 'Bearer error="invalid_token"' if access_token else "Bearer"
        response.headers["WWW-Authenticate"] = challenge
        return response
    return json_response(dialect.userinfo(access))


def json_response(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response
