"""The login providers (Google, Microsoft) as Authlib OpenID Connect clients, and how each one's id_token
claims are checked and read.

Authlib's parse_id_token checks the signature against the provider's JWKS, exp/iat and the nonce; the claims
options below add the audience and each provider's issuer rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authlib.integrations.flask_client import FlaskOAuth2App
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from ..extensions import oauth

TENANT_PLACEHOLDER = "{tenantid}"


@dataclass(frozen=True)
class ProviderLogin:
    """What a provider vouched for in a validated id_token."""

    provider: str
    subject: str
    issuer: str
    email: str
    email_verified: bool
    name: str


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    config_prefix: str
    issuer_option: Callable[[str], dict[str, Any]]
    email_verified: Callable[[dict[str, Any]], bool]
    issuer_problem: str  # why a token failing the issuer rule is refused, in words for the login page (%(provider)s)

    def claims_options(self, client_id: str, discovery_issuer: str) -> dict[str, dict[str, Any]]:
        """Built afresh per call: Authlib pops the `validate` hooks out of the dict it is given."""
        return {
            "iss": {"essential": True, **self.issuer_option(discovery_issuer)},
            "aud": {"essential": True, "value": client_id},
            "sub": {"essential": True},
        }

    def read(self, claims: dict[str, Any]) -> ProviderLogin:
        email = str(claims.get("email") or "").strip().lower()
        return ProviderLogin(
            provider=self.name,
            subject=str(claims["sub"]),
            issuer=str(claims["iss"]),
            email=email,
            email_verified=bool(email) and self.email_verified(claims),
            name=str(claims.get("name") or "").strip()[:200],
        )


def exact_issuer(discovery_issuer: str) -> dict[str, Any]:
    """Google: the token's iss must be exactly the issuer of the discovery document."""
    return {"value": discovery_issuer}


def tenant_issuer(discovery_issuer: str) -> dict[str, Any]:
    """Microsoft's common endpoint publishes `…/{tenantid}/v2.0`; each token's iss must be that template
    with the token's own `tid` put in, so a token naming one tenant cannot carry another tenant's issuer."""

    def matches_tid(claims: dict[str, Any], iss: object) -> bool:
        tid = claims.get("tid")
        if not isinstance(tid, str) or not tid or "/" in tid:
            return False
        return iss == discovery_issuer.replace(TENANT_PLACEHOLDER, tid)

    return {"validate": matches_tid}


def google_email_verified(claims: dict[str, Any]) -> bool:
    # Google documents email_verified as a boolean; older tokens carried the string "true".
    return claims.get("email_verified") in (True, "true")


def microsoft_email_verified(claims: dict[str, Any]) -> bool:
    """Microsoft sends no email_verified, and its `email` is editable in many tenants. Its documented optional
    claim `xms_edov` (e-mail domain owner verified: the tenant proved it owns the address's domain) is the one
    proof we accept; it must be enabled among the app registration's optional claims, and without it every
    Microsoft e-mail is unverified (no linking to an existing account, no invitations)."""
    return claims.get("xms_edov") in (True, 1, "1", "true")


PROVIDERS: dict[str, Provider] = {
    "google": Provider(
        "google",
        "Google",
        "GOOGLE",
        exact_issuer,
        google_email_verified,
        _l("Login with %(provider)s was refused: the sign-in token was not issued by Google. Please try again."),
    ),
    "microsoft": Provider(
        "microsoft",
        "Microsoft",
        "MICROSOFT",
        tenant_issuer,
        microsoft_email_verified,
        _l(
            "Login with %(provider)s was refused: the sign-in token was not issued by Microsoft for the tenant it "
            "names. Please try again."
        ),
    ),
}


def register_providers(app: Flask) -> None:
    """Register each provider that has a client id on the app's Authlib registry.

    Authlib's registry keeps one client per name for the whole process; each app keeps the clients built from
    its own settings in app.extensions, so two apps in one process (tests) never share one.
    """
    clients: dict[str, FlaskOAuth2App] = {}
    for provider in PROVIDERS.values():
        client_id = app.config[f"{provider.config_prefix}_CLIENT_ID"]
        if not client_id:
            continue
        oauth._clients.pop(provider.name, None)  # forget another app's client of the same name
        clients[provider.name] = oauth.register(
            provider.name,
            client_id=client_id,
            client_secret=app.config[f"{provider.config_prefix}_CLIENT_SECRET"],
            server_metadata_url=app.config[f"{provider.config_prefix}_DISCOVERY_URL"],
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256", "default_timeout": 10},
        )
    app.extensions["login_providers"] = clients


def enabled_providers() -> list[Provider]:
    clients = current_app.extensions.get("login_providers", {})
    return [provider for name, provider in PROVIDERS.items() if name in clients]


def client_for(name: str) -> FlaskOAuth2App | None:
    return current_app.extensions.get("login_providers", {}).get(name)
