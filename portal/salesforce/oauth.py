"""Salesforce OAuth 2.0 web server flow (design §4): the login host allow-list, the authorization URL with
PKCE (S256) and state, the code exchange, the identity call, the API-access probe and revoking a token."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from ..config import SALESFORCE_HOST_PATTERNS
from .errors import SalesforceAuthError, SalesforceRequestError, SalesforceUnavailable

SCOPES = "api id refresh_token"
AUTHORIZE_PATH = "/services/oauth2/authorize"
TOKEN_PATH = "/services/oauth2/token"
REVOKE_PATH = "/services/oauth2/revoke"
_HOST_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


class LoginHostRefused(ValueError):
    """A typed My Domain host outside the allow-list; nothing was fetched from it."""


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    code_verifier: str


# -- login hosts -------------------------------------------------------------------------------


def login_url_for(environment: str, my_domain: str, config: Mapping[str, Any]) -> str:
    """The login URL for the person's choice; a My Domain host must pass the allow-list first."""
    if environment == "production":
        return config["SALESFORCE_PRODUCTION_URL"].rstrip("/")
    if environment == "sandbox":
        return config["SALESFORCE_SANDBOX_URL"].rstrip("/")
    if environment == "mydomain":
        return my_domain_login_url(my_domain, config)
    raise LoginHostRefused("Choose production, sandbox or My Domain.")


def my_domain_login_url(typed: str, config: Mapping[str, Any]) -> str:
    host = _bare_host(typed)
    if host in config["SALESFORCE_EXTRA_LOGIN_HOSTS"]:
        return f"http://{host}"  # the emulator's plain-HTTP listener; production config refuses extra hosts
    if ":" not in host and any(fnmatchcase(host, pattern) for pattern in SALESFORCE_HOST_PATTERNS):
        return f"https://{host}"
    raise LoginHostRefused(
        "Enter your org's My Domain host, ending in .my.salesforce.com or .sandbox.my.salesforce.com."
    )


def _bare_host(typed: str) -> str:
    """`acme.my.salesforce.com`, with or without https:// and a trailing slash; anything else is refused."""
    value = typed.strip().lower()
    if "://" not in value:
        value = "https://" + value
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise LoginHostRefused("That is not a host name.") from None
    if parts.scheme not in ("http", "https") or parts.username or parts.password or parts.query or parts.fragment:
        raise LoginHostRefused("Enter only the host name, for example acme.my.salesforce.com.")
    if parts.path not in ("", "/") or not parts.hostname:
        raise LoginHostRefused("Enter only the host name, for example acme.my.salesforce.com.")
    if not all(_HOST_LABEL.fullmatch(label) for label in parts.hostname.split(".")):
        raise LoginHostRefused("That is not a host name.")
    return f"{parts.hostname}:{port}" if port else parts.hostname


def is_salesforce_origin(url: str, login_url: str, config: Mapping[str, Any]) -> bool:
    """True for the login host itself, production, sandbox or an allow-listed host (where tokens may go)."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    known = {login_url, config["SALESFORCE_PRODUCTION_URL"], config["SALESFORCE_SANDBOX_URL"]}
    if origin in {known_url.rstrip("/") for known_url in known}:
        return True
    try:
        return my_domain_login_url(parts.netloc, config) == origin
    except LoginHostRefused:
        return False


# -- the flow ----------------------------------------------------------------------------------


def authorization_request(login_url: str, client_id: str, redirect_uri: str) -> AuthorizationRequest:
    """Where to send the person to log in and allow access, with a fresh state and PKCE verifier."""
    verifier = generate_token(64)
    with OAuth2Session(client_id, scope=SCOPES, redirect_uri=redirect_uri, code_challenge_method="S256") as oauth:
        url, state = oauth.create_authorization_url(login_url + AUTHORIZE_PATH, code_verifier=verifier)
    return AuthorizationRequest(url=url, state=state, code_verifier=verifier)


def exchange_code(
    login_url: str, code: str, code_verifier: str, redirect_uri: str, *, config: Mapping[str, Any]
) -> dict:
    """Trade the authorization code for tokens; raises SalesforceAuthError with the OAuth error code."""
    with OAuth2Session(
        config["SALESFORCE_CLIENT_ID"],
        config["SALESFORCE_CLIENT_SECRET"],
        token_endpoint_auth_method="client_secret_post",
        redirect_uri=redirect_uri,
    ) as oauth:
        try:
            token = oauth.fetch_token(
                login_url + TOKEN_PATH,
                code=code,
                code_verifier=code_verifier,
                timeout=config["SALESFORCE_TIMEOUT_SECONDS"],
            )
        except OAuthError as failure:
            raise SalesforceAuthError(failure.error or "oauth_error", failure.description or "") from None
        except requests.HTTPError as failure:
            raise SalesforceUnavailable("the token endpoint failed", status=failure.response.status_code) from None
        except requests.RequestException as failure:
            raise SalesforceUnavailable(f"the token endpoint could not be reached ({type(failure).__name__})") from None
        except ValueError:
            raise SalesforceUnavailable("the token endpoint did not answer with JSON") from None
    return dict(token)


def fetch_identity(identity_url: str, access_token: str, *, timeout: float) -> dict:
    """GET the identity URL (on the login host) with the new access token: org id, user id, username."""
    response = _send("GET", identity_url, headers={"Authorization": f"Bearer {access_token}"}, timeout=timeout)
    if response.status_code != 200:
        code = response.text.strip()[:80] if "json" not in response.headers.get("Content-Type", "") else ""
        raise SalesforceRequestError(response.status_code, code, "the identity URL refused the access token")
    body = _json_object(response)
    if not body.get("organization_id") or not body.get("user_id"):
        raise SalesforceUnavailable("the identity URL answered without an organization or user id")
    return body


def probe_api(instance_url: str, access_token: str, *, api_version: str, timeout: float) -> requests.Response:
    """One REST call proving the org has API access (`API_DISABLED_FOR_ORG` otherwise)."""
    url = f"{instance_url}/services/data/v{api_version}/"
    response = _send("GET", url, headers={"Authorization": f"Bearer {access_token}"}, timeout=timeout)
    if response.status_code >= 500:
        raise SalesforceUnavailable("the Salesforce API failed", status=response.status_code)
    if response.status_code >= 400:
        errors = _json_array(response)
        first = errors[0] if errors and isinstance(errors[0], dict) else {}
        raise SalesforceRequestError(
            response.status_code, first.get("errorCode", ""), first.get("message", response.reason), errors=errors
        )
    return response


def revoke_token(login_url: str, token: str, *, timeout: float) -> None:
    """Revoke a refresh token; one Salesforce no longer knows counts as revoked."""
    response = _send("POST", login_url + REVOKE_PATH, data={"token": token}, timeout=timeout)
    if response.status_code == 200:
        return
    if response.status_code == 400 and _json_object_or_empty(response).get("error") == "invalid_token":
        return
    raise SalesforceUnavailable("Salesforce did not confirm the revocation", status=response.status_code)


def instance_url_of(token: Mapping[str, Any], login_url: str) -> str:
    """The token response's `instance_url` without a trailing slash; plain HTTP only behind a plain-HTTP login
    host (the emulator)."""
    url = str(token.get("instance_url") or "").rstrip("/")
    parts = urlsplit(url)
    secure_enough = parts.scheme == "https" or (parts.scheme == "http" and login_url.startswith("http://"))
    if not parts.hostname or not secure_enough or parts.path or parts.query or parts.username:
        raise SalesforceUnavailable("Salesforce answered with an unusable instance URL")
    return url


def issued_at(token: Mapping[str, Any]) -> datetime | None:
    """`issued_at` is a string of milliseconds since the epoch (there is no `expires_in`)."""
    try:
        return datetime.fromtimestamp(int(token["issued_at"]) / 1000, UTC)
    except (KeyError, TypeError, ValueError):
        return None


# -- HTTP helpers ------------------------------------------------------------------------------


def _send(method: str, url: str, *, timeout: float, **kwargs: Any) -> requests.Response:
    try:
        return requests.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.RequestException as failure:
        raise SalesforceUnavailable(f"Salesforce could not be reached ({type(failure).__name__})") from None


def _json_object(response: requests.Response) -> dict:
    body = _json_object_or_empty(response)
    if not body:
        raise SalesforceUnavailable("Salesforce did not answer with JSON", status=response.status_code)
    return body


def _json_object_or_empty(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _json_array(response: requests.Response) -> list:
    try:
        body = response.json()
    except ValueError:
        return []
    return body if isinstance(body, list) else []
