"""The EHR's JWT, checked on every hook and feedback call: each way a token can be wrong is refused
with 401 and its own reason, in the body and in the log, never with the token."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from backtriage.interop.cds_hooks import security
from backtriage.settings import TrustedIssuer
from backtriage.storage import AuditStore
from tests.interop.fake_ehr import keys
from tests.interop.fake_ehr.cds import PATIENT_VIEW, PUBLIC_URL, client_for, hook_call, url

PATH = f"/cds-services/{PATIENT_VIEW}"
SERVICE_URL = url()


@pytest.fixture
def store(tmp_path: Path) -> AuditStore:
    s = AuditStore(f"sqlite:///{tmp_path / 'security.db'}")
    s.upgrade()
    return s


@pytest.fixture
def ehr() -> Iterator[respx.Router]:
    with respx.mock(assert_all_called=False) as router:
        keys.mock_jwks(router)
        yield router


@pytest.fixture
def client(store: AuditStore, ehr: respx.Router) -> Iterator[TestClient]:
    with client_for(store) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def now() -> int:
    return int(time.time())


def other_ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


#: reason -> how to make a token (or a whole Authorization header) refused for it.
REFUSALS: dict[str, Callable[[], dict[str, str]]] = {
    "wrong audience": lambda: bearer(keys.sign(keys.claims("https://other.example.org/cds-services/x"))),
    "audience with a trailing slash": lambda: bearer(keys.sign(keys.claims(SERVICE_URL + "/"))),
    "the internal URL, not the public one": lambda: bearer(
        keys.sign(keys.claims(f"http://testserver{PATH}"))
    ),
    "expired": lambda: bearer(keys.sign(keys.claims(SERVICE_URL, iat=now() - 200, exp=now() - 61))),
    "iat too old": lambda: bearer(keys.sign(keys.claims(SERVICE_URL, iat=now() - 300 - 61))),
    "iat in the future": lambda: bearer(keys.sign(keys.claims(SERVICE_URL, iat=now() + 120))),
    "HMAC keyed with the public key": lambda: bearer(keys.hmac_with_public_key(keys.claims(SERVICE_URL))),
    "alg none": lambda: bearer(keys.unsigned(keys.claims(SERVICE_URL))),
    "unknown kid": lambda: bearer(keys.sign(keys.claims(SERVICE_URL), kid="not-a-key")),
    "untrusted iss": lambda: bearer(keys.sign(keys.claims(SERVICE_URL, iss="https://evil.example.org"))),
    "jku not allowlisted": lambda: bearer(
        keys.sign(keys.claims(SERVICE_URL), jku="https://evil.example.org/jwks.json")
    ),
    "no jti": lambda: bearer(keys.sign(keys.claims(SERVICE_URL, jti=None))),
    "no exp": lambda: bearer(keys.sign(keys.claims(SERVICE_URL, exp=None))),
    "no iat": lambda: bearer(keys.sign(keys.claims(SERVICE_URL, iat=None))),
    "no kid": lambda: bearer(keys.sign(keys.claims(SERVICE_URL), kid=None)),
    "typ not JWT": lambda: bearer(keys.sign(keys.claims(SERVICE_URL), typ="at+jwt")),
    "signed by another key": lambda: bearer(keys.sign(keys.claims(SERVICE_URL), key=other_ec_key())),
    "an RSA signature for an EC key": lambda: bearer(
        keys.sign(keys.claims(SERVICE_URL), key=keys.rsa_key(), alg="RS384")
    ),
    "nbf in the future": lambda: bearer(keys.sign(keys.claims(SERVICE_URL, nbf=now() + 600))),
    "no Authorization header": lambda: {},
    "not a Bearer header": lambda: {"Authorization": "Basic dXNlcjpwYXNz"},
    "not a JWT": lambda: bearer("abc.def"),
}
REASON = {
    "wrong audience": "bad_audience",
    "audience with a trailing slash": "bad_audience",
    "the internal URL, not the public one": "bad_audience",
    "expired": "expired",
    "iat too old": "stale_token",
    "iat in the future": "issued_in_future",
    "HMAC keyed with the public key": "symmetric_algorithm",
    "alg none": "unsigned",
    "unknown kid": "unknown_key",
    "untrusted iss": "untrusted_issuer",
    "jku not allowlisted": "untrusted_jku",
    "no jti": "missing_jti",
    "no exp": "missing_exp",
    "no iat": "missing_iat",
    "no kid": "missing_kid",
    "typ not JWT": "bad_type",
    "signed by another key": "bad_signature",
    "an RSA signature for an EC key": "wrong_algorithm",
    "nbf in the future": "not_yet_valid",
    "no Authorization header": "missing_token",
    "not a Bearer header": "missing_token",
    "not a JWT": "malformed_token",
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_each_refusal_is_401_with_its_reason_logged_without_the_token(
    client: TestClient, store: AuditStore, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    headers = REFUSALS[case]()
    with caplog.at_level(logging.INFO):
        r = client.post(PATH, json=hook_call(), headers=headers)
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == REASON[case]
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert f"JWT refused: {REASON[case]}" in caplog.text
    token = headers.get("Authorization", "").partition(" ")[2]
    if token:
        assert token not in caplog.text and token not in r.text
    assert store.cds_feedback() == []


def test_a_good_token_is_accepted_once_and_refused_as_a_replay(client: TestClient) -> None:
    headers = bearer(keys.sign(keys.claims(SERVICE_URL)))
    assert client.post(PATH, json=hook_call(), headers=headers).status_code == 200
    r = client.post(PATH, json=hook_call(), headers=headers)
    assert r.status_code == 401 and r.json()["error"]["code"] == "replayed"


@pytest.mark.parametrize(
    "aud",
    [
        SERVICE_URL,
        f"{PUBLIC_URL}/cds-services",  # the discovery URL, as the spec allows
        ["https://other.example.org/cds-services/x", SERVICE_URL],  # a list naming this service
    ],
)
def test_the_audiences_the_spec_allows_are_accepted(client: TestClient, aud: Any) -> None:
    r = client.post(PATH, json=hook_call(), headers=bearer(keys.sign(keys.claims(aud))))
    assert r.status_code == 200, r.text


def test_feedback_aud_is_its_own_url_or_its_services(client: TestClient) -> None:
    body = {"feedback": [{"card": "c1", "outcome": "overridden", "outcomeTimestamp": "2026-12-06T09:00:00Z"}]}
    for aud in (url(feedback=True), SERVICE_URL):
        r = client.post(f"{PATH}/feedback", json=body, headers=bearer(keys.sign(keys.claims(aud))))
        assert r.status_code == 200, r.text
    other = url("back-numbness-encounter-start")
    r = client.post(f"{PATH}/feedback", json=body, headers=bearer(keys.sign(keys.claims(other))))
    assert r.json()["error"]["code"] == "bad_audience"


def test_without_a_public_url_the_request_url_is_the_audience(store: AuditStore, ehr: respx.Router) -> None:
    with client_for(store, public_url=None) as c:
        good = bearer(keys.sign(keys.claims(f"http://testserver{PATH}")))
        assert c.post(PATH, json=hook_call(), headers=good).status_code == 200
        bad = bearer(keys.sign(keys.claims(SERVICE_URL)))
        assert c.post(PATH, json=hook_call(), headers=bad).json()["error"]["code"] == "bad_audience"


def test_nothing_is_taken_until_an_ehr_is_trusted(store: AuditStore, ehr: respx.Router) -> None:
    with client_for(store, cds_issuers=()) as c:
        r = c.post(PATH, json=hook_call(), headers=bearer(keys.sign(keys.claims(SERVICE_URL))))
        assert r.status_code == 503 and r.json()["error"]["code"] == "not_configured"
        assert c.post(PATH, json=hook_call()).status_code == 503
        assert c.get("/cds-services").status_code == 200  # discovery stays public


def test_keys_exchanged_out_of_band_and_an_rsa_key(
    store: AuditStore, ehr: respx.Router, tmp_path: Path
) -> None:
    jwks = tmp_path / "other-ehr.jwks.json"
    jwks.write_text(json.dumps({"keys": [keys.public_jwk(keys.rsa_key(), kid="rsa-1", alg="RS384")]}))
    other = TrustedIssuer(iss=keys.OTHER_ISSUER, jwks_file=jwks)
    with client_for(store, cds_issuers=(other,)) as c:
        payload = keys.claims(SERVICE_URL, iss=keys.OTHER_ISSUER)
        token = keys.sign(payload, key=keys.rsa_key(), alg="RS384", kid="rsa-1", jku=None)
        assert c.post(PATH, json=hook_call(), headers=bearer(token)).status_code == 200
        # A jku in the header of an issuer whose keys are not fetched is refused, never followed.
        token = keys.sign(
            keys.claims(SERVICE_URL, iss=keys.OTHER_ISSUER), key=keys.rsa_key(), alg="RS384", kid="rsa-1"
        )
        r = c.post(PATH, json=hook_call(), headers=bearer(token))
        assert r.json()["error"]["code"] == "untrusted_jku"


def test_a_jwks_that_cannot_be_fetched_refuses_the_call(store: AuditStore) -> None:
    with respx.mock() as router, client_for(store) as c:
        router.get(keys.JKU).respond(503)
        r = c.post(PATH, json=hook_call(), headers=bearer(keys.sign(keys.claims(SERVICE_URL))))
        assert r.status_code == 401 and r.json()["error"]["code"] == "keys_unavailable"


def test_the_discovery_call_needs_no_token(client: TestClient) -> None:
    assert client.get("/cds-services").status_code == 200


# ---- the key store -------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


TRUSTED = TrustedIssuer(iss=keys.ISSUER, jku=keys.JKU)


def test_keys_are_cached_and_refetched_once_for_an_unknown_kid() -> None:
    clock = Clock()
    with respx.mock() as router:
        route = keys.mock_jwks(router)
        store = security.KeyStore(clock=clock, refetch_after=10)
        assert store.key(TRUSTED, keys.KID)["kid"] == keys.KID
        assert store.key(TRUSTED, keys.KID) and route.call_count == 1  # cached
        with pytest.raises(security.TokenRefused, match="unknown_key"):
            store.key(TRUSTED, "rotated")  # fetched just now: not fetched again
        assert route.call_count == 1
        clock.t += 11
        rotated = keys.jwks(keys.public_jwk(keys.rsa_key(), kid="rotated", alg="RS384"))
        route.respond(200, json=rotated)
        assert store.key(TRUSTED, "rotated")["kid"] == "rotated"  # the EHR rotated its keys
        assert route.call_count == 2
        for _ in range(5):  # made-up kids fetch at most once per interval
            with pytest.raises(security.TokenRefused):
                store.key(TRUSTED, "made-up")
        assert route.call_count == 2
        clock.t += security.JWKS_TTL_SECONDS + 1
        store.key(TRUSTED, keys.KID)
        assert route.call_count == 3  # kept only a few minutes


def test_a_jwks_that_is_not_a_key_set_is_unavailable() -> None:
    with respx.mock() as router:
        router.get(keys.JKU).mock(return_value=httpx.Response(200, json={"not": "keys"}))
        with pytest.raises(security.TokenRefused, match="keys_unavailable"):
            security.KeyStore().key(TRUSTED, keys.KID)


def test_every_reason_is_named_once() -> None:
    assert len(set(security.REASONS)) == len(security.REASONS)
    assert set(REASON.values()) | {"replayed", "keys_unavailable", "unsupported_algorithm"} <= set(
        security.REASONS
    )


def test_verify_token_checks_in_order_and_records_the_jti_until_it_could_pass_no_longer() -> None:
    seen: list[tuple[str, str, datetime]] = []

    def first_use(iss: str, jti: str, until: datetime) -> bool:
        seen.append((iss, jti, until))
        return True

    with respx.mock() as router:
        keys.mock_jwks(router)
        issued = now()
        payload = keys.claims(SERVICE_URL, iat=issued, exp=issued + 3600)
        caller = security.verify_token(
            f"Bearer {keys.sign(payload)}",
            issuers=[TRUSTED],
            audiences=[SERVICE_URL],
            max_age=300,
            keys=security.KeyStore(),
            first_use=first_use,
        )
    assert caller.issuer == TRUSTED and caller.jti == payload["jti"] and caller.tenant == "fake-tenant"
    ((iss, jti, until),) = seen
    assert (iss, jti) == (keys.ISSUER, payload["jti"])
    # Kept until the token is too old by iat (sooner than its exp), with the leeway.
    assert int(until.timestamp()) == issued + 300 + security.LEEWAY_SECONDS
