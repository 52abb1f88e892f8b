"""What differs between the emulated providers: URLs, discovery, claims, account fields, error bodies."""

from __future__ import annotations

import base64
import hashlib
from abc import ABC, abstractmethod
from typing import Any

from .accounts import Account, AccountForm
from .faults import Fault
from .provider import AccessGrant, AuthorizationRequest, CodeGrant


class OAuthError(Exception):
    """An OAuth error response; `code` is the AADSTS number Microsoft puts in its bodies."""

    def __init__(self, error: str, description: str, *, status: int = 400, code: int | None = None) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.code = code


class Dialect(ABC):
    """One emulated provider as seen from one authority (Google has a single one)."""

    name: str
    label: str
    faults: frozenset[Fault]
    account_fields: tuple[str, ...]

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    @property
    @abstractmethod
    def path_prefix(self) -> str:
        """Path under the emulator's base URL where this provider's endpoints live."""

    @property
    def prefix_url(self) -> str:
        return self.base_url + self.path_prefix

    @property
    @abstractmethod
    def issuer(self) -> str:
        """The issuer the discovery document names."""

    @property
    @abstractmethod
    def discovery_url(self) -> str: ...

    @property
    def account_endpoint(self) -> str:
        """Where the account page's form posts (an emulator-only URL)."""
        return self.prefix_url + "/account"

    @property
    @abstractmethod
    def authorization_endpoint(self) -> str: ...

    @property
    @abstractmethod
    def token_endpoint(self) -> str: ...

    @abstractmethod
    def discovery(self) -> dict[str, Any]: ...

    @abstractmethod
    def unknown_scopes(self, scopes: tuple[str, ...]) -> list[str]: ...

    @abstractmethod
    def initial_account_values(self, request: AuthorizationRequest) -> dict[str, str]: ...

    @abstractmethod
    def read_account(self, form: AccountForm) -> Account: ...

    @abstractmethod
    def id_token_claims(self, grant: CodeGrant, access_token: str, now: int, lifetime: int) -> dict[str, Any]: ...

    @abstractmethod
    def impostor_issuer(self, claims: dict[str, Any]) -> str: ...

    def other_tenant_issuer(self, claims: dict[str, Any]) -> str | None:
        return None

    @abstractmethod
    def token_response(self, grant: CodeGrant, access_token: str, id_token: str, expires_in: int) -> dict[str, Any]: ...

    @abstractmethod
    def userinfo(self, access: AccessGrant) -> dict[str, Any]: ...

    @abstractmethod
    def invalid_token_body(self) -> dict[str, Any]: ...

    def published_keys(self, jwks: dict[str, Any]) -> dict[str, Any]:
        """The JWKS document as this provider serves it."""
        return jwks

    def callback_params(self, code: str) -> dict[str, str]:
        """Parameters of a successful redirect back to the client, besides `state`."""
        return {"code": code}

    def error_body(self, error: OAuthError) -> dict[str, Any]:
        return {"error": error.error, "error_description": error.description}

    def error_page(self, error: OAuthError) -> tuple[str, str]:
        """Heading and message of the page shown when the client cannot be redirected to."""
        return f"Error {error.status}: {error.error}", error.description


def left_half_hash(value: str) -> str:
    """OIDC's at_hash/c_hash for RS256: base64url of the left half of the SHA-256 digest."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")
