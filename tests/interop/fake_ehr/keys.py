"""The fake EHR's signing keys: an ES384 key pair made once per test process, its JWK Set, and
`sign` for correct tokens and deliberately wrong ones (HMAC keyed with the public key, `none`,
wrong audience, expired, unknown key, no jti, a replayed jti)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from functools import cache
from typing import Any

import jwt
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISSUER = "https://ehr.example.org"
JKU = "https://ehr.example.org/.well-known/jwks.json"
KID = "fake-ehr-es384"
#: Another EHR (trusted in some tests), with keys exchanged out of band.
OTHER_ISSUER = "https://other-ehr.example.org"


@cache
def private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@cache
def rsa_key() -> rsa.RSAPrivateKey:
    """A second key (RS384) the EHR may rotate to."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem() -> bytes:
    return (
        private_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def public_jwk(key: Any = None, kid: str = KID, alg: str = "ES384") -> dict[str, Any]:
    algorithm = jwt.get_algorithm_by_name(alg)
    jwk: dict[str, Any] = json.loads(algorithm.to_jwk((key or private_key()).public_key()))
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


def jwks(*extra: dict[str, Any]) -> dict[str, Any]:
    return {"keys": [public_jwk(), *extra]}


def claims(aud: str, **changes: Any) -> dict[str, Any]:
    """Correct claims for a call to `aud`; a change of None removes that claim."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": aud,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
        "tenant": "fake-tenant",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict[str, Any], key: Any = None, alg: str = "ES384", **header: Any) -> str:
    """A token signed with the fake EHR's key (or `key`); header fields default to the correct
    `kid`, `typ` and `jku`, and a value of None leaves one out."""
    fields = {"kid": KID, "typ": "JWT", "jku": JKU, **header}
    headers = {k: v for k, v in fields.items() if v is not None}
    return jwt.encode(payload, key or private_key(), algorithm=alg, headers=headers)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hmac_with_public_key(payload: dict[str, Any]) -> str:
    """The classic algorithm-confusion forgery: HS256 keyed with the EHR's public key, which
    anyone can read from its JWKS (PyJWT refuses to make one, so it is made by hand)."""
    header = {"alg": "HS256", "typ": "JWT", "kid": KID, "jku": JKU}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def unsigned(payload: dict[str, Any]) -> str:
    """A token with `alg: none` and no signature."""
    header = {"alg": "none", "typ": "JWT", "kid": KID}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}."


def mock_jwks(router: respx.Router, document: dict[str, Any] | None = None) -> respx.Route:
    """The EHR's JWKS at its jku, on a respx router (no network)."""
    return router.get(JKU).respond(200, json=document or jwks())
