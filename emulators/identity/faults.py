"""Faults a test can inject into the next id_token, each one a token a correct validator must refuse."""

from __future__ import annotations

import secrets
from enum import StrEnum
from typing import Any

# How far in the past an "expired" token ran out: far beyond any validator's clock-skew leeway.
EXPIRED_BY_SECONDS = 3600


class Fault(StrEnum):
    BAD_SIGNATURE = "bad_signature"  # signed by another key that claims the published kid
    WRONG_AUDIENCE = "wrong_audience"  # issued to another client
    WRONG_ISSUER = "wrong_issuer"  # iss is not this provider
    WRONG_TENANT = "wrong_tenant"  # Microsoft: iss names another tenant than the tid claim
    EXPIRED = "expired"  # exp (and iat, nbf) an hour in the past
    WRONG_NONCE = "wrong_nonce"  # nonce other than the one sent to the authorization endpoint


OTHER_CLIENT_ID = "another-client-id"


def apply_fault(
    claims: dict[str, Any], fault: Fault, *, impostor_issuer: str, other_tenant_issuer: str | None
) -> dict[str, Any]:
    """Return the claims changed as the fault says; BAD_SIGNATURE changes the signature, not the claims."""
    changed = dict(claims)
    if fault is Fault.WRONG_AUDIENCE:
        changed["aud"] = OTHER_CLIENT_ID
        if "azp" in changed:
            changed["azp"] = OTHER_CLIENT_ID
    elif fault is Fault.WRONG_ISSUER:
        changed["iss"] = impostor_issuer
    elif fault is Fault.WRONG_TENANT:
        if other_tenant_issuer is None:
            raise ValueError("wrong_tenant applies to Microsoft tokens only")
        changed["iss"] = other_tenant_issuer
    elif fault is Fault.EXPIRED:
        lifetime = claims["exp"] - claims["iat"]
        changed["exp"] = claims["iat"] - EXPIRED_BY_SECONDS
        changed["iat"] = changed["exp"] - lifetime
        if "nbf" in changed:
            changed["nbf"] = changed["iat"]
    elif fault is Fault.WRONG_NONCE:
        changed["nonce"] = "not-your-nonce-" + secrets.token_urlsafe(8)
    return changed
