"""RSA signing key of one emulated provider: its published JWKS and RS256 id_token signing."""

from __future__ import annotations

import threading
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey


class SigningKey:
    """A key pair generated at start; the kid is the key's RFC 7638 thumbprint."""

    def __init__(self) -> None:
        self._key = RSAKey.generate_key(2048, auto_kid=True)
        self._impostor: RSAKey | None = None
        self._lock = threading.Lock()

    @property
    def kid(self) -> str:
        return self._key.kid

    def jwks(self) -> dict[str, Any]:
        public = self._key.as_dict(private=False)
        return {"keys": [{**public, "alg": "RS256", "use": "sig"}]}

    def sign(self, claims: dict[str, Any]) -> str:
        return self._encode(claims, self._key)

    def sign_as_impostor(self, claims: dict[str, Any]) -> str:
        """Sign with a different key that claims our kid, as a forger would."""
        return self._encode(claims, self._impostor_key())

    def _encode(self, claims: dict[str, Any], key: RSAKey) -> str:
        header = {"alg": "RS256", "kid": self.kid, "typ": "JWT"}
        return jwt.encode(header, claims, key)

    def _impostor_key(self) -> RSAKey:
        # Generated on first use only: most runs never inject a bad signature.
        with self._lock:
            if self._impostor is None:
                self._impostor = RSAKey.generate_key(2048)
            return self._impostor
