"""In-memory state of the emulator: signing keys, pending codes, access tokens and queued faults."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from .accounts import Account
from .faults import Fault
from .keys import SigningKey
from .settings import ClientRegistration, IdentitySettings

PROVIDER_NAMES = ("google", "microsoft")


@dataclass(frozen=True)
class AuthorizationRequest:
    """The validated parameters of one request to an authorization endpoint."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    login_hint: str = ""


@dataclass(frozen=True)
class CodeGrant:
    """What an authorization code stands for until it is redeemed."""

    provider_name: str
    endpoint: str  # path prefix of the authorization endpoint; the code is redeemable there only
    request: AuthorizationRequest
    account: Account
    expires_at: int


@dataclass(frozen=True)
class AccessGrant:
    """What an access token stands for at the userinfo endpoint."""

    provider_name: str
    client_id: str
    scopes: tuple[str, ...]
    account: Account
    expires_at: int


@dataclass
class _RedeemedCode:
    expires_at: int
    access_tokens: list[str] = field(default_factory=list)


class CodeNotRedeemable(Exception):
    """The code is unknown, expired or already used; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IdentityProvider:
    """Shared by the request threads of one running emulator; every change happens under one lock."""

    def __init__(self, settings: IdentitySettings, base_url: str) -> None:
        self.settings = settings
        self.base_url = base_url
        self.keys = {name: SigningKey() for name in PROVIDER_NAMES}
        self._lock = threading.Lock()
        self._codes: dict[str, CodeGrant] = {}
        self._redeemed: dict[str, _RedeemedCode] = {}
        self._tokens: dict[str, AccessGrant] = {}
        self._faults: dict[str, deque[Fault]] = {name: deque() for name in PROVIDER_NAMES}

    def now(self) -> int:
        return int(time.time())

    def client(self, provider_name: str) -> ClientRegistration:
        return self.settings.client(provider_name)

    def issue_code(self, grant: CodeGrant) -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._forget_expired()
            self._codes[code] = grant
        return code

    def redeem_code(self, code: str) -> CodeGrant:
        """Use up a code. A second use also revokes the access tokens the first use obtained (RFC 6749 4.1.2)."""
        with self._lock:
            redeemed = self._redeemed.get(code)
            grant = self._codes.pop(code, None)
            if grant is not None:
                self._redeemed[code] = _RedeemedCode(grant.expires_at)
            self._forget_expired()
        if redeemed is not None:
            self._revoke(redeemed.access_tokens)
            raise CodeNotRedeemable("already_redeemed")
        if grant is None:
            raise CodeNotRedeemable("unknown")
        if self.now() >= grant.expires_at:
            raise CodeNotRedeemable("expired")
        return grant

    def issue_access_token(self, code: str, grant: CodeGrant) -> str:
        token = secrets.token_urlsafe(48)
        access = AccessGrant(
            provider_name=grant.provider_name,
            client_id=grant.request.client_id,
            scopes=grant.request.scopes,
            account=grant.account,
            expires_at=self.now() + self.settings.access_token_lifetime,
        )
        with self._lock:
            self._tokens[token] = access
            if code in self._redeemed:
                self._redeemed[code].access_tokens.append(token)
        return token

    def access_grant(self, token: str, provider_name: str) -> AccessGrant | None:
        with self._lock:
            access = self._tokens.get(token)
        if access is None or access.provider_name != provider_name or self.now() >= access.expires_at:
            return None
        return access

    def _revoke(self, tokens: list[str]) -> None:
        with self._lock:
            for token in tokens:
                self._tokens.pop(token, None)

    def queue_fault(self, provider_name: str, fault: Fault) -> None:
        with self._lock:
            self._faults[provider_name].append(fault)

    def take_fault(self, provider_name: str) -> Fault | None:
        with self._lock:
            queue = self._faults[provider_name]
            return queue.popleft() if queue else None

    def pending_faults(self) -> dict[str, list[str]]:
        with self._lock:
            return {name: [fault.value for fault in queue] for name, queue in self._faults.items()}

    def reset(self) -> None:
        """Forget codes, tokens and faults; keys stay, so clients' cached JWKS stay valid."""
        with self._lock:
            self._codes.clear()
            self._redeemed.clear()
            self._tokens.clear()
            for queue in self._faults.values():
                queue.clear()

    def _forget_expired(self) -> None:
        now = self.now()
        for store in (self._codes, self._redeemed, self._tokens):
            for key in [key for key, value in store.items() if now >= value.expires_at]:
                del store[key]
