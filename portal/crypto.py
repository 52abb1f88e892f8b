"""Encryption of Salesforce tokens at rest with rotatable Fernet keys (TOKEN_ENCRYPTION_KEYS, newest first)."""

from __future__ import annotations

from cryptography.fernet import Fernet, MultiFernet
from flask import current_app


class TokenCipher:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise RuntimeError("TOKEN_ENCRYPTION_KEYS is not set: tokens cannot be stored")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def encrypt(self, token: str) -> bytes:
        return self._fernet.encrypt(token.encode())

    def decrypt(self, ciphertext: bytes) -> str:
        return self._fernet.decrypt(ciphertext).decode()

    def rotate(self, ciphertext: bytes) -> bytes:
        """Re-encrypt under the newest key (used by the `rotate-token-keys` command)."""
        return self._fernet.rotate(ciphertext)


def token_cipher() -> TokenCipher:
    return TokenCipher(current_app.config["TOKEN_ENCRYPTION_KEYS"])
