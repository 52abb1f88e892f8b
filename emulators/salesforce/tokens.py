"""Token responses as Salesforce sends them: signature, issued_at in milliseconds, no expires_in.

The signature is the Base64 HMAC-SHA256 of id + issued_at keyed by the client secret; an id_token
(RS256) is added only when the openid scope was granted.
"""

import base64
import hashlib
import hmac
import json
import time
from functools import cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from emulators.salesforce.org import AccessToken, ConnectedApp, Org

SIGNING_KEY_ID = "emulator-1"


def identity_url(org: Org, listener: str, user_id: str) -> str:
    return f"{org.urls[listener]}/id/{org.org_id}/{user_id}"


def token_response(org: Org, app: ConnectedApp, access: AccessToken, refresh_token: str | None) -> dict:
    """The body of a successful authorization_code or refresh_token grant, in Salesforce's key order."""
    issued_at = str(int(access.issued_at * 1000))
    identity = identity_url(org, access.login_listener, access.user_id)
    body: dict = {"access_token": access.token}
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    body["signature"] = _signature(app.client_secret, identity, issued_at)
    body["scope"] = " ".join(access.scopes)
    if "openid" in access.scopes:
        body["id_token"] = _id_token(org, app, access, identity)
    body["instance_url"] = org.urls["instance"]
    body["id"] = identity
    body["token_type"] = "Bearer"
    body["issued_at"] = issued_at
    return body


def _signature(client_secret: str, identity: str, issued_at: str) -> str:
    digest = hmac.new(client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@cache
def _signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks() -> dict:
    numbers = _signing_key().public_key().public_numbers()

    def encode(number: int) -> str:
        return _b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))

    return {
        "keys": [
            {
                "kty": "RSA",
                "alg": "RS256",
                "use": "sig",
                "kid": SIGNING_KEY_ID,
                "n": encode(numbers.n),
                "e": encode(numbers.e),
            }
        ]
    }


def _id_token(org: Org, app: ConnectedApp, access: AccessToken, identity: str) -> str:
    now = int(time.time())
    claims = {
        "at_hash": _b64url(hashlib.sha256(access.token.encode()).digest()[:16]),
        "sub": identity,
        "aud": app.client_id,
        "iss": org.urls[access.login_listener],
        "exp": now + 300,
        "iat": now,
    }
    header = {"kid": SIGNING_KEY_ID, "typ": "JWT", "alg": "RS256"}
    signing_input = _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
    signature = _signing_key().sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + _b64url(signature)
