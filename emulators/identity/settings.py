"""Settings of the identity emulator: where it listens, which OAuth clients it knows, token lifetimes."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

# A fixed "organisation" tenant so demo accounts keep the same tenant (and oid) across restarts.
DEMO_TENANT_ID = "3f6a1d2e-5b7c-4e8f-9a0b-1c2d3e4f5a6b"
# Microsoft's documented tenant of personal Microsoft accounts.
CONSUMER_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class ClientRegistration:
    """An OAuth client as registered in the Google Cloud console or Entra admin centre."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...] = ()

    def allows_redirect_uri(self, uri: str) -> bool:
        """Registered URIs match exactly; loopback http URIs (RFC 8252) are always allowed."""
        return uri in self.redirect_uris or is_loopback_http_uri(uri)


def is_loopback_http_uri(uri: str) -> bool:
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS and not parts.fragment


@dataclass(frozen=True)
class IdentitySettings:
    """Everything the emulator can be configured with; keyword names are those of start_identity()."""

    host: str = "127.0.0.1"
    port: int = 0
    public_url: str | None = None
    google_client_id: str = "google-client-id"
    google_client_secret: str = "google-client-secret"
    microsoft_client_id: str = "microsoft-client-id"
    microsoft_client_secret: str = "microsoft-client-secret"
    redirect_uris: tuple[str, ...] = ()
    default_tenant_id: str = DEMO_TENANT_ID
    code_lifetime: int = 600
    access_token_lifetime: int = 3599
    id_token_lifetime: int = 3600

    def base_url(self, bound_port: int) -> str:
        """The URL every issuer and endpoint is built from (fixed, never taken from a Host header)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{bound_port}"

    def client(self, provider_name: str) -> ClientRegistration:
        if provider_name == "google":
            client_id, secret = self.google_client_id, self.google_client_secret
        else:
            client_id, secret = self.microsoft_client_id, self.microsoft_client_secret
        return ClientRegistration(client_id, secret, tuple(self.redirect_uris))
