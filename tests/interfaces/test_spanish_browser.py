"""The patient's page in Spanish, in a real browser (headless Chromium through a real `backtriage
serve`, as in test_web_browser.py): a browser in Spain gets the page in Spanish, the switch goes to
English and back, a whole interview ends in a result, and a changed answer ends on the emergency
screen that dials 112. Every screen is checked with axe-core (WCAG 2.2 AA: no serious or critical
violation).

Skipped when no Chromium is installed, except in CI (`CI=true`), where a missing browser fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Page  # noqa: E402

from tests.conftest import free_port  # noqa: E402

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI needs Chromium for the browser tests (apt-get install chromium)")
    pytest.skip("no Chromium installed (apt-get install chromium)", allow_module_level=True)

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}
NUMBERS = {"es-ES": "112", "es-MX": "911", "en-GB": "999", "en-US": "911"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("page-es")
    port = free_port()
    env = {
        **os.environ,
        "BACKTRIAGE_RATE_LIMIT": "100000",
        "BACKTRIAGE_EMERGENCY_NUMBERS": json.dumps(NUMBERS),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "backtriage", "serve", "--port", str(port)]
        + ["--database-url", f"sqlite:///{folder / 'page.db'}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2).read()
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError("backtriage serve did not answer within 60 s")
    yield url
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture
def page(server: str) -> Iterator[Page]:
    """A browser in Spain: it asks for Spanish first."""
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(
            viewport={"width": 1000, "height": 900},
            locale="es-ES",
            extra_http_headers={"Accept-Language": "es-ES,es;q=0.9"},
        )
        outside: list[str] = []
        tab = context.new_page()
        tab.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server) else None)
        tab.goto(server + "/")
        yield tab
        context.close()
        browser.close()
        assert outside == [], "the page asked for something outside the host"


def _accessible(page: Page, screen: str) -> None:
    results = Axe().run(page, options=WCAG)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{screen}: " + "; ".join(f"{v['id']}: {v['help']}" for v in bad)


def _heading(page: Page) -> str:
    return page.locator("h1").first.inner_text().strip()


def _answer_no_until_done(page: Page) -> None:
    """ "Ninguna de estas" on the checklists, "No lo sé" on a single choice, no to the rest."""
    for _ in range(30):
        if "/result" in page.url:
            return
        if page.get_by_role("button", name="Ninguna de estas").count():
            page.get_by_role("button", name="Ninguna de estas").click()
        elif page.locator('input[name="option"][type="radio"]').count():
            page.get_by_role("button", name="No lo sé").click()
        elif page.locator('input[name="option"]').count():
            page.get_by_role("button", name="Continuar").click()
        else:
            page.get_by_label("No", exact=True).check()
            page.get_by_role("button", name="Continuar").click()
    raise AssertionError("the interview did not end")


def test_a_visit_from_spain_in_spanish_ends_on_the_emergency_screen_dialling_112(page: Page) -> None:
    assert page.locator("html").get_attribute("lang") == "es"
    assert _heading(page) == "¿Tiene entumecimiento u hormigueo en la espalda?"
    assert "Llame al 112 ahora si tiene" in page.inner_text("main")
    _accessible(page, "start")

    page.get_by_role("button", name="English").click()  # the switch, named in its own language
    assert page.locator("html").get_attribute("lang") == "en"
    assert _heading(page) == "Numbness or tingling in your back?"
    assert "Call 999 now if you have" in page.inner_text("main")  # English with no region: the one number
    page.get_by_role("button", name="Español").click()
    assert page.locator("html").get_attribute("lang") == "es"

    page.get_by_role("button", name="Empezar").click()
    assert _heading(page) == "¿Le está pasando ahora algo de esto?"
    assert page.locator("p.progress").inner_text() == "Pregunta 1"
    _accessible(page, "question")
    first = _heading(page)

    _answer_no_until_done(page)
    assert page.locator(".outcome h1").inner_text()
    main = page.inner_text("main")
    assert (
        "Qué podría estar causándolo" in main and "Un resumen para enseñar a un profesional sanitario" in main
    )
    _accessible(page, "result")

    page.locator(".changes li").filter(has_text=first).get_by_role("button").click()
    assert _heading(page) == first  # asked again, the later answers undone
    page.get_by_label("Entumecimiento entre las piernas o alrededor del ano").check()
    page.get_by_label("Problemas nuevos para orinar, o pérdidas de orina").check()
    page.get_by_role("button", name="Continuar").click()
    assert "/result" in page.url and _heading(page) == "Llame al 112 ahora"
    assert "No conduzca usted mismo" in page.inner_text("main")
    call = page.get_by_role("link", name="Llame al 112", exact=True)
    assert call.get_attribute("href") == "tel:112"
    _accessible(page, "emergency")
    page.get_by_role("link", name="Ver por qué").click()
    assert "Presión grave sobre el haz de nervios del final de la columna" in page.inner_text("main")
    _accessible(page, "emergency-details")
