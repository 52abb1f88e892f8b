"""The authorization code flow shared by both providers: authorize, sign in, token exchange, userinfo."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from werkzeug.datastructures import MultiDict

from .accounts import Account
from .dialect import Dialect, OAuthError
from .faults import Fault, apply_fault
from .provider import AuthorizationRequest, CodeGrant, CodeNotRedeemable, IdentityProvider

AUTHORIZATION_PARAMETERS = (
    "client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
    "code_challenge", "code_challenge_method", "response_mode", "prompt", "login_hint",
)  # fmt: skip
# RFC 7636: verifiers (and plain challenges) are 43-128 unreserved characters; S256 challenges are 43.
PKCE_VALUE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
MISSING_PARAMETER = 900144
CODE_PROBLEMS = {
    "unknown": ("Malformed auth code.", 9002313),
    "expired": ("The provided authorization code has expired.", 70008),
    "already_redeemed": ("The authorization code was already redeemed.", 54005),
}


class AuthorizationError(OAuthError):
    """An authorization endpoint error: sent back to redirect_uri once that is trusted, else shown as a page."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        redirect_uri: str | None = None,
        state: str | None = None,
        status: int = 400,
        code: int | None = None,
    ) -> None:
        super().__init__(error, description, status=status, code=code)
        self.redirect_uri = redirect_uri
        self.state = state

    def redirect_url(self) -> str:
        params = {"error": self.error, "error_description": self.description}
        if self.state is not None:
            params["state"] = self.state
        return with_query(self.redirect_uri or "", params)


def read_authorization_request(
    provider: IdentityProvider, dialect: Dialect, params: MultiDict[str, str]
) -> AuthorizationRequest:
    """Validate the client and redirect URI first: until both are known good, errors are not redirected."""
    client = provider.client(dialect.name)
    repeated = [name for name in AUTHORIZATION_PARAMETERS if len(params.getlist(name)) > 1]
    client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
    if {"client_id", "redirect_uri"} & set(repeated):
        raise AuthorizationError("invalid_request", "Parameters client_id and redirect_uri must appear once.")
    if not client_id:
        raise AuthorizationError("invalid_request", "Missing required parameter: client_id", code=MISSING_PARAMETER)
    if client_id != client.client_id:
        raise AuthorizationError(
            "invalid_client",
            f"Application with identifier '{client_id}' was not found. The OAuth client was not found.",
            status=401,
            code=700016,
        )
    if not redirect_uri:
        raise AuthorizationError("invalid_request", "Missing required parameter: redirect_uri", code=MISSING_PARAMETER)
    if not client.allows_redirect_uri(redirect_uri):
        raise AuthorizationError(
            "redirect_uri_mismatch",
            f"The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs "
            f"configured for the application '{client_id}'.",
            code=50011,
        )
    return read_redirectable_parameters(dialect, params, client_id, redirect_uri, repeated)


def read_redirectable_parameters(
    dialect: Dialect,
    params: MultiDict[str, str],
    client_id: str,
    redirect_uri: str,
    repeated: list[str],
) -> AuthorizationRequest:
    state = params.get("state")

    def refuse(error: str, description: str, code: int | None = None) -> AuthorizationError:
        return AuthorizationError(error, description, redirect_uri=redirect_uri, state=state, code=code)

    if repeated:
        raise refuse("invalid_request", f"Parameters must not be repeated: {', '.join(repeated)}")
    response_type = params.get("response_type", "")
    if not response_type:
        raise refuse("invalid_request", "Missing required parameter: response_type", MISSING_PARAMETER)
    if response_type != "code":
        raise refuse("unsupported_response_type", f"response_type '{response_type}' is not supported.", 700054)
    scopes = tuple(params.get("scope", "").split())
    if "openid" not in scopes:
        raise refuse("invalid_scope", "The scope parameter must include openid.", 70011)
    unknown = dialect.unknown_scopes(scopes)
    if unknown:
        raise refuse("invalid_scope", f"Some requested scopes were invalid: {' '.join(unknown)}", 70011)
    response_mode = params.get("response_mode", "query")
    if response_mode != "query":
        raise refuse("invalid_request", f"response_mode '{response_mode}' is not supported; use query.")
    challenge, method = read_code_challenge(params, refuse)
    if params.get("prompt") == "none":
        # No one is ever signed in to the emulator, so a silent request cannot succeed.
        raise refuse("login_required", "A silent sign-in request was sent but no user is signed in.", 50058)
    return AuthorizationRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state,
        nonce=params.get("nonce"),
        code_challenge=challenge,
        code_challenge_method=method,
        login_hint=params.get("login_hint", ""),
    )


def read_code_challenge(
    params: MultiDict[str, str], refuse: Callable[..., AuthorizationError]
) -> tuple[str | None, str | None]:
    challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
    if challenge is None:
        if method is not None:
            raise refuse("invalid_request", "code_challenge_method was sent without code_challenge.")
        return None, None
    method = method or "plain"  # RFC 7636 4.3: plain when the method is absent
    if method not in ("plain", "S256"):
        raise refuse("invalid_request", f"Invalid code_challenge_method: {method}")
    if not PKCE_VALUE.match(challenge):
        raise refuse("invalid_request", "Invalid code_challenge.")
    return challenge, method


def carried_parameters(request: AuthorizationRequest) -> dict[str, str]:
    """The authorization parameters the account page carries as hidden fields."""
    values = {
        "client_id": request.client_id,
        "redirect_uri": request.redirect_uri,
        "response_type": "code",
        "scope": " ".join(request.scopes),
        "state": request.state,
        "nonce": request.nonce,
        "code_challenge": request.code_challenge,
        "code_challenge_method": request.code_challenge_method,
    }
    return {name: value for name, value in values.items() if value is not None}


def complete_sign_in(
    provider: IdentityProvider, dialect: Dialect, request: AuthorizationRequest, account: Account
) -> str:
    """Issue a code for the account and return the URL that sends it to the client."""
    now = provider.now()
    grant = CodeGrant(
        provider_name=dialect.name,
        endpoint=dialect.path_prefix,
        request=request,
        account=account,
        expires_at=now + provider.settings.code_lifetime,
    )
    params = dialect.callback_params(provider.issue_code(grant))
    if request.state is not None:
        params["state"] = request.state
    return with_query(request.redirect_uri, params)


def cancelled_sign_in(request: AuthorizationRequest) -> str:
    error = AuthorizationError(
        "access_denied", "The user cancelled the sign-in.", redirect_uri=request.redirect_uri, state=request.state
    )
    return error.redirect_url()


def exchange_code(
    provider: IdentityProvider, dialect: Dialect, form: MultiDict[str, str], authorization: str | None
) -> dict[str, Any]:
    """The token endpoint: authenticate the client, use up the code, answer with tokens."""
    client_id = authenticate_client(provider, dialect, form, authorization)
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "Missing required parameter: grant_type", code=MISSING_PARAMETER)
    if grant_type != "authorization_code":
        raise OAuthError("unsupported_grant_type", f"Unsupported grant_type: {grant_type}", code=70003)
    code = form.get("code")
    if not code:
        raise OAuthError("invalid_request", "Missing required parameter: code", code=MISSING_PARAMETER)
    try:
        grant = provider.redeem_code(code)
    except CodeNotRedeemable as problem:
        description, aadsts = CODE_PROBLEMS[problem.reason]
        raise OAuthError("invalid_grant", description, code=aadsts) from None
    if grant.endpoint != dialect.path_prefix or grant.request.client_id != client_id:
        raise OAuthError("invalid_grant", "The code was not issued to this client at this endpoint.")
    if form.get("redirect_uri") != grant.request.redirect_uri:
        raise OAuthError(
            "invalid_grant",
            "The redirect_uri does not match the one used in the authorization request.",
            code=500112,
        )
    verify_code_verifier(grant.request, form.get("code_verifier"))
    access_token = provider.issue_access_token(code, grant)
    id_token = issue_id_token(provider, dialect, grant, access_token)
    return dialect.token_response(grant, access_token, id_token, provider.settings.access_token_lifetime)


def authenticate_client(
    provider: IdentityProvider, dialect: Dialect, form: MultiDict[str, str], authorization: str | None
) -> str:
    client = provider.client(dialect.name)
    client_id, secret = client_credentials(form, authorization)
    if not client_id:
        raise OAuthError("invalid_request", "Could not determine client ID from request.", code=MISSING_PARAMETER)
    if client_id != client.client_id:
        raise OAuthError("invalid_client", "The OAuth client was not found.", status=401, code=700016)
    if not secret:
        raise OAuthError("invalid_client", "The request must contain client_secret.", status=401, code=7000218)
    if not hmac.compare_digest(secret.encode(), client.client_secret.encode()):
        raise OAuthError("invalid_client", "Invalid client secret provided.", status=401, code=7000215)
    return client_id


def client_credentials(form: MultiDict[str, str], authorization: str | None) -> tuple[str, str]:
    """client_secret_basic (RFC 6749 2.3.1: form-encoded id and secret) or client_secret_post."""
    if not authorization:
        return form.get("client_id", ""), form.get("client_secret", "")
    scheme, _, encoded = authorization.partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    raw_id, colon, raw_secret = decoded.partition(":")
    if scheme.lower() != "basic" or not colon:
        raise OAuthError("invalid_client", "Malformed Basic client authentication.", status=401, code=7000215)
    client_id = unquote_plus(raw_id)
    if "client_secret" in form or form.get("client_id", client_id) != client_id:
        raise OAuthError("invalid_request", "Use one client authentication method, not two.")
    return client_id, unquote_plus(raw_secret)


def verify_code_verifier(request: AuthorizationRequest, verifier: str | None) -> None:
    if request.code_challenge is None:
        return
    if not verifier:
        raise OAuthError("invalid_grant", "Missing code verifier.", code=50148)
    expected = request.code_challenge.encode()
    if not PKCE_VALUE.match(verifier) or not hmac.compare_digest(
        challenge_for(verifier, request.code_challenge_method), expected
    ):
        raise OAuthError(
            "invalid_grant",
            "The code_verifier does not match the code_challenge supplied in the authorization request.",
            code=501481,
        )


def challenge_for(verifier: str, method: str | None) -> bytes:
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=")
    return verifier.encode("ascii")


def issue_id_token(provider: IdentityProvider, dialect: Dialect, grant: CodeGrant, access_token: str) -> str:
    """Sign the id_token, with the fault a test queued for this provider, if any."""
    claims = dialect.id_token_claims(grant, access_token, provider.now(), provider.settings.id_token_lifetime)
    key = provider.keys[dialect.name]
    fault = provider.take_fault(dialect.name)
    if fault is None:
        return key.sign(claims)
    if fault is Fault.BAD_SIGNATURE:
        return key.sign_as_impostor(claims)
    faulty = apply_fault(
        claims,
        fault,
        impostor_issuer=dialect.impostor_issuer(claims),
        other_tenant_issuer=dialect.other_tenant_issuer(claims),
    )
    return key.sign(faulty)


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def with_query(uri: str, params: Mapping[str, str]) -> str:
    """Add parameters to a URI, keeping the query it already has (RFC 6749 3.1.2)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))
