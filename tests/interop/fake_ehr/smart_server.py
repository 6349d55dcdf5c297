"""A fake EHR authorisation server for SMART App Launch tests, mocked with respx (no network).

It serves `{fhir}/.well-known/smart-configuration` and a token endpoint that checks what a real
one must: the grant type, a code used once, the same redirect_uri and client_id as the
authorisation request, and the PKCE verifier against the S256 challenge. The authorisation step
itself is `approve`: the test reads the page's redirect (Location) and gets back the callback URL
the EHR would send the browser to after sign-in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import respx

from backtriage.interop.smart import challenge_for

EHR = "https://ehr.example.org"
FHIR = f"{EHR}/fhir"
AUTHORIZE = f"{EHR}/auth/authorize"
TOKEN = f"{EHR}/auth/token"


@dataclass
class Grant:
    """One authorisation in progress: what the authorisation request said."""

    patient: str
    challenge: str
    redirect_uri: str
    client_id: str
    scope: str
    used: bool = False


@dataclass
class FakeSmartServer:
    fhir: str = FHIR
    client_id: str = "backtriage"
    #: `code_challenge_methods_supported` as served; None leaves the field out.
    pkce_methods: list[str] | None = field(default_factory=lambda: ["S256"])
    #: The scope granted; None grants what was asked.
    granted_scope: str | None = None
    expires_in: int = 3600
    launches: dict[str, str] = field(default_factory=dict)  # launch id -> patient
    grants: dict[str, Grant] = field(default_factory=dict)  # code -> grant
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> patient
    token_requests: int = 0
    refusals: list[str] = field(default_factory=list)

    def install(self, router: respx.Router) -> None:
        router.get(f"{self.fhir}/.well-known/smart-configuration").mock(side_effect=self.configuration)
        router.post(TOKEN).mock(side_effect=self.token)

    # ---- what the EHR does ----------------------------------------------------------------
    def launch_url(self, patient: str, iss: str | None = None) -> str:
        """The page's launch URL as the EHR opens it, for a launch in this patient's context."""
        launch = secrets.token_urlsafe(12)
        self.launches[launch] = patient
        return "/smart/launch?" + urlencode({"iss": iss or self.fhir, "launch": launch})

    def approve(self, location: str, challenge: str | None = None) -> str:
        """Sign-in approved: the path and query of the callback the browser is sent to.
        `challenge` replaces the one sent (as if the code were then redeemed by someone else)."""
        parts = urlsplit(location)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == AUTHORIZE, location
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert q["response_type"] == "code" and q["client_id"] == self.client_id
        assert q["aud"] == self.fhir and q["code_challenge_method"] == "S256"
        assert q["launch"] in self.launches and len(q["state"]) >= 22  # >= 128 bits
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(
            patient=self.launches[q["launch"]],
            challenge=challenge or q["code_challenge"],
            redirect_uri=q["redirect_uri"],
            client_id=q["client_id"],
            scope=q["scope"],
        )
        callback = urlsplit(q["redirect_uri"])
        return f"{callback.path}?{urlencode({'code': code, 'state': q['state']})}"

    # ---- endpoints --------------------------------------------------------------------------
    def configuration(self, request: httpx.Request) -> httpx.Response:
        doc: dict[str, Any] = {
            "issuer": EHR,
            "authorization_endpoint": AUTHORIZE,
            "token_endpoint": TOKEN,
            "grant_types_supported": ["authorization_code"],
            "capabilities": ["launch-ehr", "client-public", "context-ehr-patient", "permission-v2"],
        }
        if self.pkce_methods is not None:
            doc["code_challenge_methods_supported"] = self.pkce_methods
        return httpx.Response(200, json=doc)

    def _refuse(self, why: str) -> httpx.Response:
        self.refusals.append(why)
        return httpx.Response(400, json={"error": "invalid_grant", "error_description": why})

    def token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests += 1
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if form.get("grant_type") != "authorization_code":
            return self._refuse("grant_type")
        grant = self.grants.get(form.get("code", ""))
        if grant is None or grant.used:
            return self._refuse("code")
        grant.used = True
        if form.get("redirect_uri") != grant.redirect_uri or form.get("client_id") != grant.client_id:
            return self._refuse("redirect_uri or client_id")
        if challenge_for(form.get("code_verifier", "")) != grant.challenge:
            return self._refuse("code_verifier")
        token = "TOKEN-CANARY-" + secrets.token_urlsafe(24)
        self.tokens[token] = grant.patient
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.granted_scope if self.granted_scope is not None else grant.scope,
            "patient": grant.patient,
            "encounter": "enc-1",
            "need_patient_banner": False,
            "id_token": "not.verified.here",
        }
        return httpx.Response(200, json=body, headers={"Cache-Control": "no-store"})
