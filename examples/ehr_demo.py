"""Watch an EHR open backtriage's page with SMART App Launch, step by step.

    python examples/ehr_demo.py

It starts a tiny fake EHR in this process (http.server on a free port: SMART configuration, a
sign-in that approves at once, a token endpoint checking PKCE, and a FHIR store), then
`backtriage serve` as a subprocess on another free port, trusting that EHR. Acting as the
browser, it follows the launch, answers every question "no" (or "none of these", or "not sure"
for a checklist), presses "Save to the record", and prints what the EHR's FHIR store received.
If the server has the CDS Hooks service, the demo begins as an EHR would: a patient-view hook,
a card, and the card's SMART link. Nothing leaves this machine; everything is deleted at the end.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

PATIENT = {
    "resourceType": "Patient",
    "id": "demo-patient-1",
    "name": [{"given": ["Robin"], "family": "Example"}],
    "birthDate": "1958-04-12",
    "gender": "female",
}


def say(step: str, detail: str = "") -> None:
    print(f"\n== {step}" + (f"\n   {detail}" if detail else ""), flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeEhr:
    """The EHR's side: launches it has issued, codes, tokens and the FHIR resources it holds."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.fhir = f"{self.base}/fhir"
        self.launches: dict[str, str] = {}
        self.codes: dict[str, dict[str, str]] = {}
        self.tokens: dict[str, str] = {}
        self.created: list[dict[str, Any]] = []
        self.granted = ""
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())

    def new_launch(self, patient: str) -> str:
        launch = secrets.token_urlsafe(12)
        self.launches[launch] = patient
        return launch

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        ehr = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/fhir/.well-known/smart-configuration":
                    return self.reply(
                        200,
                        {
                            "authorization_endpoint": f"{ehr.base}/auth/authorize",
                            "token_endpoint": f"{ehr.base}/auth/token",
                            "code_challenge_methods_supported": ["S256"],
                            "capabilities": ["launch-ehr", "client-public", "context-ehr-patient"],
                        },
                    )
                if url.path == "/auth/authorize":
                    return self.authorize({k: v[0] for k, v in parse_qs(url.query).items()})
                if url.path == f"/fhir/Patient/{PATIENT['id']}" and self.token() == PATIENT["id"]:
                    return self.reply(200, PATIENT)
                return self.reply(404)

            def authorize(self, q: dict[str, str]) -> None:
                """Sign-in, approved at once, as if the clinician were already signed in."""
                ok = q.get("response_type") == "code" and q.get("code_challenge_method") == "S256"
                if not ok or q.get("launch") not in ehr.launches or q.get("aud") != ehr.fhir:
                    return self.reply(400, {"error": "invalid_request"})
                code = secrets.token_urlsafe(16)
                ehr.codes[code] = {**q, "patient": ehr.launches.pop(q["launch"])}
                target = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]})
                self.reply(302, headers={"Location": target})

            def token(self) -> str | None:
                scheme, _, token = self.headers.get("Authorization", "").partition(" ")
                return ehr.tokens.get(token) if scheme == "Bearer" else None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/auth/token":
                    return self.exchange({k: v[0] for k, v in parse_qs(body.decode()).items()})
                kind = self.path.removeprefix("/fhir/")
                if self.token() is None:
                    return self.reply(401)
                if not re.fullmatch(r"[A-Z][A-Za-z]+", kind):
                    return self.reply(404)
                resource = json.loads(body)
                resource["id"] = str(uuid.uuid4())
                ehr.created.append(resource)
                self.reply(201, headers={"Location": f"{ehr.fhir}/{kind}/{resource['id']}/_history/1"})

            def exchange(self, form: dict[str, str]) -> None:
                grant = ehr.codes.pop(form.get("code", ""), None)
                digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                if (
                    grant is None
                    or form.get("grant_type") != "authorization_code"
                    or form.get("redirect_uri") != grant["redirect_uri"]
                    or challenge != grant["code_challenge"]
                ):
                    return self.reply(400, {"error": "invalid_grant"})
                token = secrets.token_urlsafe(24)
                ehr.tokens[token] = grant["patient"]
                ehr.granted = grant["scope"]
                self.reply(
                    200,
                    {
                        "access_token": token,
                        "token_type": "Bearer",
                        "expires_in": 3600,
                        "scope": grant["scope"],
                        "patient": grant["patient"],
                        "need_patient_banner": False,
                    },
                    headers={"Cache-Control": "no-store"},
                )

        return Handler


def cds_issuer(folder: Path, ehr: FakeEhr) -> tuple[str, Any] | None:
    """The EHR as a trusted CDS Hooks issuer: a key made now, its public half in a JWKS file."""
    try:
        import jwt
        from cryptography.hazmat.primitives.asymmetric import ec
    except ImportError:
        return None
    key = ec.generate_private_key(ec.SECP384R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    (folder / "jwks.json").write_text(json.dumps({"keys": [{**public, "kid": "demo", "alg": "ES384"}]}))
    issuers = [{"iss": ehr.base, "jwks_file": str(folder / "jwks.json")}]
    return json.dumps(issuers), key


def hook_link(page: httpx.Client, ehr: FakeEhr, key: Any) -> str | None:
    """The patient-view hook with what the EHR holds on the patient; the card's SMART link."""
    import jwt

    services = page.get("/cds-services")
    if services.status_code != 200:
        return None
    service = next(s for s in services.json()["services"] if s["hook"] == "patient-view")
    url = f"{str(page.base_url).rstrip('/')}/cds-services/{service['id']}"
    now = int(time.time())
    claims = {"iss": ehr.base, "aud": url, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
    token = jwt.encode(claims, key, algorithm="ES384", headers={"kid": "demo", "typ": "JWT"})
    from backtriage.interop.terminology import load_terminology

    finding = {"system": load_terminology().url("CodeSystem", "finding"), "code": "leg_weakness"}
    seen = {
        "resourceType": "Observation",
        "id": "obs-1",
        "status": "final",
        "category": [{"coding": [{"code": "survey"}]}],
        "code": {"coding": [finding]},
        "subject": {"reference": f"Patient/{PATIENT['id']}"},
        "effectiveDateTime": time.strftime("%Y-%m-%d"),
        "valueCodeableConcept": {"coding": [{"system": "http://loinc.org", "code": "LA9633-4"}]},
    }
    body = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/demo", "patientId": PATIENT["id"]},
        "prefetch": {
            "patient": PATIENT,
            "conditions": {"resourceType": "Bundle", "type": "searchset", "entry": []},
            "observations": {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": seen}]},
            "note": None,
        },
    }
    reply = page.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    cards = reply.json().get("cards", []) if reply.status_code == 200 else []
    say("CDS Hooks: patient-view", f"HTTP {reply.status_code}, {len(cards)} card(s)")
    for card in cards:
        print(f"   card [{card['indicator']}]: {card['summary']}")
        for link in card.get("links", []):
            if link.get("type") == "smart":
                print(f"   SMART link: {link['label']} -> {link['url']}")
                return str(link["url"])
    return None


def start_server(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "backtriage", "serve", "--port", str(port), "--no-auth"]
    server = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    for _ in range(240):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            break
        time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"backtriage serve did not start:\n{log.read_text()[-2000:]}")


def words(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))).strip()


def heading(html: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, flags=re.S)
    return words(match.group(1)) if match else "?"


def table(html: str) -> list[str]:
    """The write-back page's rows: what, how many saved, how many not (and why)."""
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td>\s*<td>(.*?)</td></tr>", html, flags=re.S)
    return [f"{words(what)}: {words(saved)} saved, {words(unsaved)} not" for what, saved, unsaved in rows]


def run(folder: Path) -> None:
    ehr = FakeEhr(free_port())
    threading.Thread(target=ehr.server.serve_forever, daemon=True).start()
    say("Fake EHR", f"FHIR server {ehr.fhir}")
    port = free_port()
    env = {
        **os.environ,
        "BACKTRIAGE_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}",
        "BACKTRIAGE_SMART_ISSUERS": ehr.fhir,
    }
    cds = cds_issuer(folder, ehr)
    if cds is not None:
        env["BACKTRIAGE_CDS_ISSUERS"] = cds[0]
    server = start_server(port, env, folder / "server.log")
    say("backtriage serve", f"http://127.0.0.1:{port} (trusting {ehr.fhir})")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as page:
            link = None
            try:
                link = hook_link(page, ehr, cds[1]) if cds is not None else None
            except (httpx.HTTPError, ValueError, KeyError, StopIteration) as exc:
                say("CDS Hooks step left out", type(exc).__name__)
            tokens = browse(page, ehr, link or f"http://127.0.0.1:{port}/smart/launch")
    finally:
        server.terminate()
        server.wait(timeout=10)
        ehr.server.shutdown()
    log = (folder / "server.log").read_text()
    say(
        "9. The server's log",
        f"{len(log.splitlines())} lines; an access token in it: {any(t in log for t in tokens)}",
    )


def browse(page: httpx.Client, ehr: FakeEhr, launch_url: str) -> dict[str, str]:
    """The browser's part: the launch, the interview, the write-back."""
    url = f"{launch_url}?{urlencode({'iss': ehr.fhir, 'launch': ehr.new_launch(PATIENT['id'])})}"
    say("1. The EHR opens the page", url)
    r = page.get(url)
    say(
        "2. The page sends the browser to sign in at the EHR",
        f"HTTP {r.status_code} -> {r.headers['location']}",
    )
    r = httpx.get(r.headers["location"])
    say("3. The EHR approves and sends the browser back", f"HTTP {r.status_code} -> {r.headers['location']}")
    r = page.get(r.headers["location"])
    say("4. The page trades the code for a token", f"HTTP {r.status_code} -> {r.headers.get('location')}")
    print(f"   scopes granted: {ehr.granted}")
    r = page.get("/interview")
    say("5. The interview (every answer: no / none of these / not sure)")
    for number in range(1, 60):
        if r.status_code == 303 and r.headers["location"].startswith("/result"):
            break
        html = r.text
        choice = "none" if 'value="none"' in html else "unsure" if 'name="option"' in html else "no"
        print(f"   {number:2}. {heading(html)}  -> {choice}")
        r = page.post("/interview/answer", data={"choice": choice, "csrf": page.cookies["bt_csrf"]})
        if r.status_code == 303 and r.headers["location"].startswith("/interview"):
            r = page.get("/interview")
    result = page.get("/result?details=1")
    say("6. The result", heading(result.text))
    print(f"   'Save to the record' offered: {'Save to the record' in result.text}")
    saved = page.post("/smart/write-back", data={"csrf": page.cookies["bt_csrf"]})
    person = re.search(r"<p>(The record of .*?)</p>", saved.text)
    say("7. Save to the record", heading(saved.text) + (f" ({words(person.group(1))})" if person else ""))
    for row in table(saved.text):
        print(f"   {row}")
    kinds: dict[str, int] = {}
    for resource in ehr.created:
        kinds[resource["resourceType"]] = kinds.get(resource["resourceType"], 0) + 1
    subjects = {r["subject"]["reference"] for r in ehr.created if "subject" in r}
    say("8. The EHR's FHIR store now holds", ", ".join(f"{n} {k}" for k, n in kinds.items()))
    print(f"   all about: {', '.join(sorted(subjects))}")
    return ehr.tokens


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="backtriage-ehr-demo-") as folder:
        run(Path(folder))
