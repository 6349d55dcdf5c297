"""Who is calling: the EHR's signed JWT, checked on every hook and feedback call (CDS Hooks 2.0,
"Trusting CDS Clients").

A token is believed only when every check below passes, in this order, and each refusal has a
short reason code the caller and the log both see (never the token itself):

| check | reason |
|---|---|
| `Authorization: Bearer <jwt>` present and parseable | `missing_token`, `malformed_token` |
| header `alg` asymmetric (not none, not HMAC) | `unsigned`, `symmetric_algorithm`, `unsupported_algorithm` |
| header `typ` JWT (if given), `kid` given, no `crit` | `bad_type`, `missing_kid`, `unsupported_header` |
| `iss` one of the trusted issuers (settings) | `untrusted_issuer` |
| header `jku`, when present, the issuer's configured one | `untrusted_jku` |
| a key with that `kid` in the issuer's JWKS (refetched once) | `unknown_key`, `keys_unavailable` |
| the key fits `alg`; the signature verifies | `wrong_algorithm`, `bad_signature` |
| `aud` is exactly the URL called (or the discovery URL) | `bad_audience` |
| `exp` present and not past (60 s leeway) | `missing_exp`, `expired` |
| `iat` present, not ahead, not older than the max age | `missing_iat`, `issued_in_future`, `stale_token` |
| `nbf`, when present, reached | `not_yet_valid` |
| `jti` present and never seen from this issuer | `missing_jti`, `replayed` |

Keys come only from configuration: an issuer's `jku` (fetched with httpx, kept for a few
minutes, fetched again once when a token names a key it lacks) or its `jwks_file`. A `jku` in a
token header is never followed; it must name the configured one.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt
from jwt.exceptions import InvalidKeyError, InvalidSignatureError, PyJWKError, PyJWTError

from backtriage.settings import TrustedIssuer

__all__ = [
    "ALLOWED_ALGORITHMS",
    "LEEWAY_SECONDS",
    "REASONS",
    "KeyStore",
    "TokenRefused",
    "VerifiedCaller",
    "verify_token",
]

_log = logging.getLogger("backtriage.cds_hooks")

#: Asymmetric algorithms only: the spec forbids `none` and every shared-secret (HMAC) algorithm.
ALLOWED_ALGORITHMS = frozenset(
    {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
)
#: Clock difference tolerated between the EHR and this server (Inferno's CRD tests allow 60 s).
LEEWAY_SECONDS = 60
#: How long a fetched JWKS is used before it is fetched again.
JWKS_TTL_SECONDS = 300.0
#: A token naming an unknown key makes the JWKS be fetched again, but not more often than this:
#: tokens with made-up key ids must not turn this server into a flood against the EHR.
JWKS_REFETCH_SECONDS = 10.0
JWKS_MAX_BYTES = 256 * 1024
JWKS_TIMEOUT_SECONDS = 5.0
#: The longest `jti` kept (the audit store's column).
MAX_JTI_CHARS = 200

#: Every reason a token can be refused for, as sent in the 401 body and written to the log.
REASONS = (
    "missing_token",
    "malformed_token",
    "unsigned",
    "symmetric_algorithm",
    "unsupported_algorithm",
    "bad_type",
    "missing_kid",
    "unsupported_header",
    "untrusted_issuer",
    "untrusted_jku",
    "unknown_key",
    "keys_unavailable",
    "wrong_algorithm",
    "bad_signature",
    "bad_audience",
    "missing_exp",
    "expired",
    "missing_iat",
    "issued_in_future",
    "stale_token",
    "not_yet_valid",
    "missing_jti",
    "replayed",
)


class TokenRefused(Exception):
    """The call's JWT is not believed; `reason` is one of `REASONS`."""

    def __init__(self, reason: str) -> None:
        assert reason in REASONS, reason
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class VerifiedCaller:
    """A trusted EHR whose token passed every check."""

    issuer: TrustedIssuer
    jti: str
    tenant: str | None


class KeyStore:
    """The trusted issuers' public keys (JWK Sets), fetched or read on demand and kept a short
    while. Thread-safe: calls are verified in worker threads."""

    def __init__(
        self,
        client: httpx.Client | None = None,
        ttl: float = JWKS_TTL_SECONDS,
        refetch_after: float = JWKS_REFETCH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.ttl, self.refetch_after, self._clock = ttl, refetch_after, clock
        self._sets: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()

    def key(self, issuer: TrustedIssuer, kid: str) -> dict[str, Any]:
        """The JWK with this `kid` (TokenRefused `unknown_key` or `keys_unavailable`)."""
        where = _source(issuer)
        with self._lock:
            now = self._clock()
            held = self._sets.get(where)
            if held is None or now - held[0] > self.ttl:
                held = self._load(issuer, where, now)
            found = _by_kid(held[1], kid)
            if found is None and now - held[0] >= self.refetch_after:
                held = self._load(issuer, where, now)  # the EHR may have rotated its keys
                found = _by_kid(held[1], kid)
        if found is None:
            raise TokenRefused("unknown_key")
        return found

    def _load(self, issuer: TrustedIssuer, where: str, now: float) -> tuple[float, list[dict[str, Any]]]:
        keys = _read_file(issuer.jwks_file) if issuer.jwks_file is not None else self._fetch(where)
        self._sets[where] = (now, keys)
        return self._sets[where]

    def _fetch(self, url: str) -> list[dict[str, Any]]:
        client = self._client or _shared_client()
        try:
            response = client.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            _log.warning("cds-hooks: a trusted issuer's JWKS could not be fetched (%s)", type(exc).__name__)
            raise TokenRefused("keys_unavailable") from None
        if response.status_code != 200 or len(response.content) > JWKS_MAX_BYTES:
            _log.warning("cds-hooks: a trusted issuer's JWKS answered %d", response.status_code)
            raise TokenRefused("keys_unavailable")
        try:
            return _keys_of(response.json())
        except ValueError:
            _log.warning("cds-hooks: a trusted issuer's JWKS is not a JWK Set")
            raise TokenRefused("keys_unavailable") from None


_client_lock = threading.Lock()
_client: list[httpx.Client] = []


def _shared_client() -> httpx.Client:
    """One client for every JWKS fetch (building one costs milliseconds); it never follows a
    redirect, so keys come only from the configured address."""
    with _client_lock:
        if not _client:
            _client.append(httpx.Client(timeout=JWKS_TIMEOUT_SECONDS, follow_redirects=False))
        return _client[0]


def _source(issuer: TrustedIssuer) -> str:
    return issuer.jku if issuer.jku is not None else f"file:{issuer.jwks_file}"


def _read_file(path: Path) -> list[dict[str, Any]]:
    try:
        return _keys_of(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        _log.warning("cds-hooks: a trusted issuer's jwks_file cannot be read as a JWK Set")
        raise TokenRefused("keys_unavailable") from None


def _keys_of(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK Set")
    return [k for k in document["keys"] if isinstance(k, dict) and k.get("use", "sig") == "sig"]


def _by_kid(keys: Sequence[dict[str, Any]], kid: str) -> dict[str, Any] | None:
    return next((k for k in keys if k.get("kid") == kid), None)


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise TokenRefused("missing_token")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRefused("missing_token")
    return token.strip()


def _check_header(header: Mapping[str, Any]) -> tuple[str, str]:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        raise TokenRefused("unsigned")
    if alg.upper().startswith("HS"):
        raise TokenRefused("symmetric_algorithm")
    if alg not in ALLOWED_ALGORITHMS:
        raise TokenRefused("unsupported_algorithm")
    if "typ" in header and str(header["typ"]).upper() != "JWT":
        raise TokenRefused("bad_type")
    if "crit" in header:  # no extension is understood here, so none may be critical (RFC 7515)
        raise TokenRefused("unsupported_header")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenRefused("missing_kid")
    return alg, kid


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TokenRefused(f"missing_{name}")
    return float(value)


def verify_token(
    authorization: str | None,
    *,
    issuers: Sequence[TrustedIssuer],
    audiences: Sequence[str],
    max_age: int,
    keys: KeyStore,
    first_use: Callable[[str, str, datetime], bool],
    now: float | None = None,
) -> VerifiedCaller:
    """Check the `Authorization` header of a call. `audiences` are the URLs the token may be
    addressed to; `first_use(iss, jti, keep_until)` records a token id and says whether it is
    new. Raises TokenRefused with the first check that fails."""
    token = _bearer(authorization)
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except PyJWTError:
        raise TokenRefused("malformed_token") from None
    alg, kid = _check_header(header)
    iss = unverified.get("iss")
    issuer = next((i for i in issuers if isinstance(iss, str) and i.iss == iss), None)
    if issuer is None:
        raise TokenRefused("untrusted_issuer")
    if "jku" in header and header["jku"] != issuer.jku:
        raise TokenRefused("untrusted_jku")
    jwk = keys.key(issuer, kid)
    if jwk.get("alg", alg) != alg:
        raise TokenRefused("wrong_algorithm")
    try:
        key = jwt.PyJWK(jwk, algorithm=alg)
    except (PyJWKError, InvalidKeyError, ValueError, TypeError):
        raise TokenRefused("wrong_algorithm") from None
    try:
        # The signature only: every claim is checked below, each with its own reason.
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[alg],
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except InvalidSignatureError:
        raise TokenRefused("bad_signature") from None
    except (PyJWTError, ValueError, TypeError):
        raise TokenRefused("bad_signature") from None
    return _check_claims(claims, issuer, audiences, max_age, first_use, time.time() if now is None else now)


def _check_claims(
    claims: Mapping[str, Any],
    issuer: TrustedIssuer,
    audiences: Sequence[str],
    max_age: int,
    first_use: Callable[[str, str, datetime], bool],
    now: float,
) -> VerifiedCaller:
    aud = claims.get("aud")
    named = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not any(isinstance(a, str) and a in audiences for a in named):
        raise TokenRefused("bad_audience")
    exp = _number(claims, "exp")
    if now > exp + LEEWAY_SECONDS:
        raise TokenRefused("expired")
    iat = _number(claims, "iat")
    if iat > now + LEEWAY_SECONDS:
        raise TokenRefused("issued_in_future")
    if now - iat > max_age + LEEWAY_SECONDS:
        raise TokenRefused("stale_token")
    if "nbf" in claims:
        nbf = claims["nbf"]
        if isinstance(nbf, bool) or not isinstance(nbf, int | float) or nbf > now + LEEWAY_SECONDS:
            raise TokenRefused("not_yet_valid")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_CHARS:
        raise TokenRefused("missing_jti")
    # Kept until the token could pass no longer: past `exp`, or too old by `iat`.
    keep_until = min(exp, iat + max_age) + LEEWAY_SECONDS
    if not first_use(issuer.iss, jti, datetime.fromtimestamp(keep_until, UTC)):
        raise TokenRefused("replayed")
    tenant = claims.get("tenant")
    return VerifiedCaller(issuer=issuer, jti=jti, tenant=tenant if isinstance(tenant, str) else None)
