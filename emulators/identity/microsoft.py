"""Microsoft identity platform v2.0 as seen through one authority (common, organizations, consumers, a tenant)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from .accounts import Account, AccountForm
from .dialect import Dialect, OAuthError
from .faults import Fault
from .google import CHECKED
from .provider import AccessGrant, AuthorizationRequest, CodeGrant
from .settings import CONSUMER_TENANT_ID

MULTI_TENANT_AUTHORITIES = ("common", "organizations")
TENANT_PLACEHOLDER = "{tenantid}"
# AADSTS code used when no more specific one applies: "Invalid request. Request is malformed or invalid."
MALFORMED_REQUEST = 9002313
# A tenant that is never anyone's: the wrong_tenant fault names it in iss.
STRANGER_TENANT_ID = "00000000-0000-4000-8000-5742a9e70000"


def tenant_of_authority(authority: str) -> str | None:
    """The one tenant an authority admits, None for the multi-tenant ones; ValueError if unknown."""
    if authority in MULTI_TENANT_AUTHORITIES:
        return None
    if authority == "consumers":
        return CONSUMER_TENANT_ID
    try:
        tenant = uuid.UUID(authority)
    except ValueError:
        raise ValueError(f"Tenant '{authority}' not found.") from None
    if str(tenant) != authority.lower():
        raise ValueError(f"Tenant '{authority}' not found.")
    return str(tenant)


class MicrosoftDialect(Dialect):
    name = "microsoft"
    label = "Microsoft"
    faults = frozenset(Fault)
    account_fields = ("email", "name", "tenant_id", "email_verified", "subject")

    def __init__(self, base_url: str, authority: str, default_tenant_id: str) -> None:
        super().__init__(base_url)
        self.only_tenant = tenant_of_authority(authority)
        self.authority = authority
        self.default_tenant_id = default_tenant_id

    @property
    def path_prefix(self) -> str:
        return f"/microsoft/{self.authority}"

    @property
    def issuer(self) -> str:
        """The discovery document's issuer: a template on the multi-tenant authorities, as Microsoft's own."""
        return self.tenant_issuer(self.only_tenant or TENANT_PLACEHOLDER)

    def tenant_issuer(self, tenant_id: str) -> str:
        return f"{self.base_url}/microsoft/{tenant_id}/v2.0"

    @property
    def discovery_url(self) -> str:
        return self.prefix_url + "/v2.0/.well-known/openid-configuration"

    @property
    def authorization_endpoint(self) -> str:
        return self.prefix_url + "/oauth2/v2.0/authorize"

    @property
    def token_endpoint(self) -> str:
        return self.prefix_url + "/oauth2/v2.0/token"

    @property
    def userinfo_endpoint(self) -> str:
        # Stands for https://graph.microsoft.com/oidc/userinfo, shared by every authority.
        return self.base_url + "/microsoft/oidc/userinfo"

    def discovery(self) -> dict[str, Any]:
        return {
            "token_endpoint": self.token_endpoint,
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "jwks_uri": self.prefix_url + "/discovery/v2.0/keys",
            "response_modes_supported": ["query"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code"],
            "scopes_supported": ["openid", "profile", "email"],
            "issuer": self.issuer,
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": self.userinfo_endpoint,
            "authorization_endpoint": self.authorization_endpoint,
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "nbf",
                "nonce",
                "preferred_username",
                "name",
                "oid",
                "tid",
                "ver",
                "email",
            ],  # fmt: skip
        }

    def published_keys(self, jwks: dict[str, Any]) -> dict[str, Any]:
        """Microsoft's keys name the issuer they sign for, so clients can check iss against the key."""
        return {"keys": [{**key, "issuer": self.issuer} for key in jwks["keys"]]}

    def unknown_scopes(self, scopes: tuple[str, ...]) -> list[str]:
        # Microsoft accepts resource scopes (e.g. User.Read) beside the OpenID ones.
        return []

    def initial_account_values(self, request: AuthorizationRequest) -> dict[str, str]:
        return {
            "email": request.login_hint,
            "tenant_id": self.only_tenant or self.default_tenant_id,
            "email_verified": "true",
        }

    def read_account(self, form: AccountForm) -> Account:
        account = Account(
            email=form.email(),
            name=form.text("name", label="a name", required=True),
            tenant_id=form.tenant_id(),
            subject=form.text("subject", label="an object id"),
            email_verified=form.values.get("email_verified", "").lower() in CHECKED,
        )
        refusal = self.tenant_refusal(account.tenant_id)
        if refusal and "tenant_id" not in form.errors:
            form.errors["tenant_id"] = refusal
        return account

    def tenant_refusal(self, tenant_id: str) -> str | None:
        if self.only_tenant and tenant_id != self.only_tenant:
            return f"This application signs in accounts of tenant {self.only_tenant} only."
        if self.authority == "organizations" and tenant_id == CONSUMER_TENANT_ID:
            return "This application signs in work or school accounts only."
        return None

    def id_token_claims(self, grant: CodeGrant, access_token: str, now: int, lifetime: int) -> dict[str, Any]:
        request, account = grant.request, grant.account
        tenant = account.tenant_id
        claims: dict[str, Any] = {
            "aud": request.client_id,
            "iss": self.tenant_issuer(tenant),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
        }
        if "email" in request.scopes:
            claims["email"] = account.email
            if account.email_verified:
                # The optional claim xms_edov: the e-mail's domain is verified by the tenant (Microsoft's
                # documented way to trust an e-mail); absent otherwise, as in real tokens.
                claims["xms_edov"] = True
        if "profile" in request.scopes:
            claims.update(name=account.name, oid=object_id(account), preferred_username=account.email)
        if request.nonce is not None:
            claims["nonce"] = request.nonce
        claims.update(
            sub=pairwise_subject(account, request.client_id),
            tid=tenant,
            uti=secrets.token_urlsafe(16),
            ver="2.0",
        )
        return claims

    def impostor_issuer(self, claims: dict[str, Any]) -> str:
        return f"{self.base_url}/impostor/{claims['tid']}/v2.0"

    def other_tenant_issuer(self, claims: dict[str, Any]) -> str:
        stranger = STRANGER_TENANT_ID
        if claims["tid"] == stranger:
            stranger = self.default_tenant_id
        return self.tenant_issuer(stranger)

    def token_response(self, grant: CodeGrant, access_token: str, id_token: str, expires_in: int) -> dict[str, Any]:
        return {
            "token_type": "Bearer",
            "scope": " ".join(grant.request.scopes),
            "expires_in": expires_in,
            "ext_expires_in": expires_in,
            "access_token": access_token,
            "id_token": id_token,
        }

    def callback_params(self, code: str) -> dict[str, str]:
        return {"code": code, "session_state": str(uuid.uuid4())}

    def userinfo(self, access: AccessGrant) -> dict[str, Any]:
        info: dict[str, Any] = {"sub": pairwise_subject(access.account, access.client_id)}
        if "profile" in access.scopes:
            info["name"] = access.account.name
        if "email" in access.scopes:
            info["email"] = access.account.email
        return info

    def invalid_token_body(self) -> dict[str, Any]:
        # Graph's error shape, since Microsoft's userinfo endpoint is served by Graph.
        return {"error": {"code": "InvalidAuthenticationToken", "message": "Access token validation failure."}}

    def error_body(self, error: OAuthError) -> dict[str, Any]:
        code = error.code or MALFORMED_REQUEST
        timestamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
        return {
            "error": error.error,
            "error_description": (
                f"AADSTS{code}: {error.description}\r\nTrace ID: {trace_id}\r\n"
                f"Correlation ID: {correlation_id}\r\nTimestamp: {timestamp}"
            ),
            "error_codes": [code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
        }

    def error_page(self, error: OAuthError) -> tuple[str, str]:
        code = error.code or MALFORMED_REQUEST
        return "Sorry, but we're having trouble signing you in.", f"AADSTS{code}: {error.description}"


def object_id(account: Account) -> str:
    """The user's oid: one per person per tenant, stable across restarts."""
    if account.subject:
        return account.subject
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{account.tenant_id}:{account.email.lower()}"))


def pairwise_subject(account: Account, client_id: str) -> str:
    """Microsoft's sub differs per application for the same person (a pairwise identifier)."""
    seed = f"{account.tenant_id}|{object_id(account)}|{client_id}".encode()
    return base64.urlsafe_b64encode(hashlib.sha256(seed).digest()).decode("ascii")[:43]
