"""Google as an OpenID Connect provider: accounts.google.com's discovery, claims and scope names."""

from __future__ import annotations

import hashlib
from typing import Any

from .accounts import Account, AccountForm
from .dialect import Dialect, left_half_hash
from .faults import Fault
from .provider import AccessGrant, AuthorizationRequest, CodeGrant

# Google accepts both the short scope names and their URLs, and answers with the URLs.
SCOPE_URLS = {
    "openid": "openid",
    "email": "https://www.googleapis.com/auth/userinfo.email",
    "profile": "https://www.googleapis.com/auth/userinfo.profile",
}
SHORT_SCOPES = {**{name: name for name in SCOPE_URLS}, **{url: name for name, url in SCOPE_URLS.items()}}
CHECKED = frozenset({"true", "on", "1", "yes"})


class GoogleDialect(Dialect):
    name = "google"
    label = "Google"
    faults = frozenset(Fault) - {Fault.WRONG_TENANT}
    account_fields = ("email", "name", "given_name", "family_name", "email_verified", "subject")

    @property
    def path_prefix(self) -> str:
        return "/google"

    @property
    def issuer(self) -> str:
        return self.prefix_url

    @property
    def discovery_url(self) -> str:
        return self.prefix_url + "/.well-known/openid-configuration"

    @property
    def authorization_endpoint(self) -> str:
        return self.prefix_url + "/o/oauth2/v2/auth"

    @property
    def token_endpoint(self) -> str:
        return self.prefix_url + "/token"

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "userinfo_endpoint": self.prefix_url + "/v1/userinfo",
            "jwks_uri": self.prefix_url + "/oauth2/v3/certs",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "authorization_response_iss_parameter_supported": True,
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": [
                "aud",
                "email",
                "email_verified",
                "exp",
                "family_name",
                "given_name",
                "iat",
                "iss",
                "name",
                "sub",
            ],  # fmt: skip
            "code_challenge_methods_supported": ["plain", "S256"],
            "grant_types_supported": ["authorization_code"],
        }

    def unknown_scopes(self, scopes: tuple[str, ...]) -> list[str]:
        return [scope for scope in scopes if scope not in SHORT_SCOPES]

    def initial_account_values(self, request: AuthorizationRequest) -> dict[str, str]:
        return {"email": request.login_hint, "email_verified": "true"}

    def read_account(self, form: AccountForm) -> Account:
        return Account(
            email=form.email(),
            name=form.text("name", label="a name", required=True),
            given_name=form.text("given_name", label="a given name"),
            family_name=form.text("family_name", label="a family name"),
            email_verified=form.values.get("email_verified", "").lower() in CHECKED,
            subject=form.text("subject", label="a subject"),
        )

    def id_token_claims(self, grant: CodeGrant, access_token: str, now: int, lifetime: int) -> dict[str, Any]:
        request, account = grant.request, grant.account
        scopes = granted(request.scopes)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "azp": request.client_id,
            "aud": request.client_id,
            "sub": google_subject(account),
        }
        if "email" in scopes:
            claims.update(email=account.email, email_verified=account.email_verified)
        claims["at_hash"] = left_half_hash(access_token)
        if request.nonce is not None:
            claims["nonce"] = request.nonce
        if "profile" in scopes:
            claims.update(profile_claims(account))
        claims.update(iat=now, exp=now + lifetime)
        return claims

    def impostor_issuer(self, claims: dict[str, Any]) -> str:
        return self.base_url + "/impostor"

    def token_response(self, grant: CodeGrant, access_token: str, id_token: str, expires_in: int) -> dict[str, Any]:
        return {
            "access_token": access_token,
            "expires_in": expires_in,
            "scope": scope_urls(grant.request.scopes),
            "token_type": "Bearer",
            "id_token": id_token,
        }

    def callback_params(self, code: str) -> dict[str, str]:
        # Google also names itself (RFC 9207) and the account slot in the redirect.
        return {"code": code, "iss": self.issuer, "authuser": "0"}

    def userinfo(self, access: AccessGrant) -> dict[str, Any]:
        scopes = granted(access.scopes)
        info: dict[str, Any] = {"sub": google_subject(access.account)}
        if "profile" in scopes:
            info.update(profile_claims(access.account))
        if "email" in scopes:
            info.update(email=access.account.email, email_verified=access.account.email_verified)
        return info

    def invalid_token_body(self) -> dict[str, Any]:
        return {"error": "invalid_request", "error_description": "Invalid Credentials"}


def granted(scopes: tuple[str, ...]) -> set[str]:
    return {SHORT_SCOPES[scope] for scope in scopes if scope in SHORT_SCOPES}


def scope_urls(scopes: tuple[str, ...]) -> str:
    return " ".join(SCOPE_URLS[name] for name in ("email", "profile", "openid") if name in granted(scopes))


def profile_claims(account: Account) -> dict[str, str]:
    claims = {"name": account.name}
    if account.given_name:
        claims["given_name"] = account.given_name
    if account.family_name:
        claims["family_name"] = account.family_name
    return claims


def google_subject(account: Account) -> str:
    """Google's sub is a 21-digit number; derived from the e-mail so it is stable across restarts."""
    if account.subject:
        return account.subject
    digest = hashlib.sha256(b"google-sub:" + account.email.lower().encode()).digest()
    return "1" + f"{int.from_bytes(digest[:10], 'big') % 10**20:020d}"
