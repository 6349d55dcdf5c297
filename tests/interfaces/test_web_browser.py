"""The patient's page in a real browser: headless Chromium (the system's, driven by Playwright),
through a real `backtriage serve`. Each screen is checked with axe-core (WCAG 2.2 AA: no serious
or critical violation), no request may leave the host, and the page must fit 320 px.

Skipped when no Chromium is installed, except in CI (`CI=true`), where `.ci/run` installs it and
a missing browser is a failure. The pictures in docs/ are made by `scripts/screenshots.py`.
"""

from __future__ import annotations

import functools
import http.server
import io
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import unicodedata
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

playwright_api = pytest.importorskip("playwright.sync_api")
from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Browser, Page  # noqa: E402

from tests.conftest import free_port  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI needs Chromium for the browser tests (apt-get install chromium)")
    pytest.skip("no Chromium installed (apt-get install chromium)", allow_module_level=True)

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("page")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "backtriage", "serve", "--port", str(port)]
        + ["--database-url", f"sqlite:///{folder / 'page.db'}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "BACKTRIAGE_RATE_LIMIT": "100000"},
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    p = context.new_page()
    outside: list[str] = []
    p.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server) else None)
    p.goto(server + "/")
    yield p
    context.close()
    assert outside == [], "the page asked for something outside the host"


def _accessible(page: Page, screen: str) -> None:
    results = Axe().run(page, options=WCAG)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{screen}: " + "; ".join(f"{v['id']}: {v['help']}" for v in bad)


def _heading(page: Page) -> str:
    return page.locator("h1").first.inner_text().strip()


def _start(page: Page, text: str, age: str = "") -> None:
    page.get_by_label("In your own words").fill(text)
    if age:
        page.get_by_label("Age (optional)").fill(age)
    page.get_by_role("button", name="Start").click()


def _answer_until_done(
    page: Page, yes: tuple[str, ...] = (), options: tuple[str, ...] = (), until: str = ""
) -> None:
    """Answer as a person would: 'None of these' on the checklists, the listed options on the
    choice questions, yes to questions holding a word in `yes`, no to the rest; up to the result
    (or to the first page showing `until`, a CSS selector)."""
    for _ in range(30):
        if "/result" in page.url or (until and page.locator(until).count()):
            return
        if page.get_by_role("button", name="None of these").count():
            page.get_by_role("button", name="None of these").click()
            continue
        boxes = page.locator('input[name="option"]')
        if boxes.count():
            for option in options:
                box = page.locator(f'input[name="option"][value="{option}"]')
                if box.count():
                    box.check()
            if (
                page.locator('input[name="option"]:checked').count() == 0
                and boxes.first.get_attribute("type") == "radio"
            ):
                page.get_by_role("button", name="I'm not sure").click()
                continue
            page.get_by_role("button", name="Continue").click()
            continue
        question = _heading(page).lower()
        page.get_by_label("Yes" if any(w in question for w in yes) else "No", exact=True).check()
        page.get_by_role("button", name="Continue").click()
    raise AssertionError("the interview did not end")


def test_a_postural_story_ends_in_self_care_with_the_body_map_used_by_keyboard(page: Page) -> None:
    _accessible(page, "start")
    _start(
        page,
        "my back goes numb and tingly when I sit for ages, gone in a minute when I walk about",
        "34",
    )
    _accessible(page, "question")
    _answer_until_done(page, yes=("sitting", "position", "go away", "moving"), until=".bodymap")
    _accessible(page, "body-map")
    region = page.locator('.region[data-option="lower_back"]')
    region.focus()
    page.keyboard.press("Space")
    assert region.get_attribute("aria-checked") == "true"
    assert page.locator('input[name="option"][value="lower_back"]').is_checked()
    page.get_by_role("button", name="Continue").click()
    _answer_until_done(page, yes=("sitting", "position", "go away", "moving"), options=("posture", "clears"))
    assert _heading(page) == "You can look after this at home"
    _accessible(page, "result")


def test_a_stenosis_story_ends_in_routine(page: Page) -> None:
    _start(
        page,
        "both my legs go numb and heavy when I walk a few hundred yards, "
        "better when I sit or lean on a trolley",
        "71",
    )
    _answer_until_done(
        page, yes=("walk", "sit or bend", "lean"), options=("both_legs", "walking", "sitting_helps")
    )
    assert _heading(page).startswith("See a GP or physiotherapist")


def test_a_cauda_equina_story_goes_to_the_emergency_screen(page: Page) -> None:
    _start(
        page, "bad back for a week, now I can't feel the toilet paper when I wipe and I can't pee properly"
    )
    assert "/result" in page.url and _heading(page) == "Call 999 now"
    assert "Do not drive yourself" in page.inner_text("main")
    _accessible(page, "emergency")
    call = page.get_by_role("link", name="Call 999", exact=True)
    assert call.get_attribute("href") == "tel:999"
    box = call.bounding_box()
    assert box and box["height"] >= 56 and box["width"] >= 200  # big and obvious, even on a phone
    assert call.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 28
    page.get_by_role("link", name="Show why").click()
    _accessible(page, "emergency-details")
    causes = page.locator(".cause")
    assert causes.count() >= 2
    for i in range(causes.count()):
        cause = causes.nth(i)
        style = next(c for c in (cause.get_attribute("class") or "").split() if c.startswith("danger-"))
        r, g, b = _rgb(cause.locator(".bar .fill").evaluate("e => getComputedStyle(e).fill"))
        if style in ("danger-emergency", "danger-urgent"):
            assert not (g > r and g > b), f"{cause.inner_text()}: a dangerous cause drawn green"
        assert cause.locator(".danger").inner_text().strip()  # in words too, never colour alone
    first = causes.first
    assert "danger-emergency" in (first.get_attribute("class") or "")
    assert "Dangerous" in first.locator(".danger").inner_text()


def _rgb(css: str) -> tuple[int, int, int]:
    r, g, b = (int(float(n)) for n in re.findall(r"[\d.]+", css)[:3])
    return r, g, b


def test_a_stroke_gets_its_own_emergency_words(page: Page) -> None:
    _start(page, "my face dropped on one side and my arm went numb, my speech is slurred")
    assert "/result" in page.url and _heading(page) == "Call 999 now"
    words = page.inner_text("main")
    assert "stroke" in words and "note the time it started" in words
    assert "if you can get there safely" not in words  # that is the back's advice
    assert page.locator('a[href="tel:999"]').is_visible()
    _accessible(page, "emergency-stroke")


PHONE = {"width": 375, "height": 812}


def test_the_body_map_on_a_phone_has_labelled_targets_of_44_px(browser: Browser, server: str) -> None:
    """At 375 px every region is a labelled target of at least 44 x 44 CSS px (WCAG 2.5.5), the map
    and the list offer the same options, and what the text already answered is shown as answered."""
    context = browser.new_context(viewport=PHONE, has_touch=True)
    page = context.new_page()
    page.goto(server + "/")
    _start(page, "my lower back goes numb and tingly when I sit for ages, gone when I walk about", "34")
    _answer_until_done(page, yes=("sitting", "position", "go away", "moving"), until=".bodymap")
    _accessible(page, "body-map-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    regions = page.locator(".bodymap .region")
    assert regions.count() == 9
    for i in range(regions.count()):
        region = regions.nth(i)
        option = region.get_attribute("data-option")
        box = region.locator("rect").bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44, (option, box)
        label = " ".join(region.locator("tspan").all_text_contents())
        name = region.get_attribute("aria-label") or ""
        assert label and label.lower() in name.lower(), (option, label, name)  # WCAG 2.5.3
        text = region.locator("text").first.bounding_box()
        assert text and _inside(text, box), (option, "label outside its target")
    on_map = sorted(regions.evaluate_all("rs => rs.map(r => r.dataset.option)"))
    in_list = sorted(page.locator(".choices input").evaluate_all("bs => bs.map(b => b.dataset.option)"))
    assert on_map == in_list
    known = page.locator('.region[data-option="lower_back"]')
    assert known.get_attribute("aria-disabled") == "true" and known.get_attribute("aria-checked") == "true"
    assert page.locator('.choices input[data-option="lower_back"]').is_checked()
    known.tap(force=True)  # answered already: a tap changes nothing
    assert known.get_attribute("aria-checked") == "true"
    leg = page.locator('.region[data-option="leg"]')
    leg.tap()
    assert leg.get_attribute("aria-checked") == "true"
    assert page.locator('input[name="option"][value="leg"]').is_checked()
    assert leg.locator(".tick").is_visible()  # ticked: a mark as well as a colour
    leg.tap()
    assert not page.locator('input[name="option"][value="leg"]').is_checked()
    regions.evaluate_all("rs => rs.forEach(r => r.setAttribute('aria-checked', 'true'))")
    for i in range(regions.count()):  # every tick, shown, is clear of its region's label
        words = regions.nth(i).locator("text").first.bounding_box()
        tick = regions.nth(i).locator(".tick text").bounding_box()
        assert words and tick and not _overlap(words, tick), regions.nth(i).get_attribute("data-option")
    context.close()


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def _inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["x"] >= outer["x"] - 1
        and inner["y"] >= outer["y"] - 1
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1
    )


STORIES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "stories.yaml").read_text())
#: The texts of the elements shown (not the print-only copy), outside the causes: a cause's reasons
#: may repeat another's, nothing else may.
SHOWN_OUTSIDE_CAUSES = """es => es
    .filter(e => e.getClientRects().length && !e.closest(".cause"))
    .map(e => e.innerText.trim())"""


@pytest.mark.parametrize("story", STORIES, ids=[s["id"] for s in STORIES])
def test_each_story_reads_well_on_a_phone(browser: Browser, server: str, story: dict[str, Any]) -> None:
    """The team's six stories, typed in and answered "no" / "None of these" at 375 px: an emergency
    goes straight to its screen with the number to dial; every result screen fits the phone, shows
    no raw id, says nothing twice, draws no dangerous cause green, and offers "Change an answer"
    only when a question was answered."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(server + "/")
    _start(page, story["text"])
    _answer_until_done(page)
    screens = ["/result"]
    if story["urgency"] == "emergency":
        assert _heading(page) == "Call 999 now"
        assert page.get_by_role("link", name="Call 999", exact=True).get_attribute("href") == "tel:999"
        screens.append("/result?details=1")
    for screen in screens:
        page.goto(server + screen)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], screen
        words = page.inner_text("main")  # what is shown: folded details and the textarea left out
        assert not re.findall(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b", words), screen
        said = page.locator("main p, main li").evaluate_all(SHOWN_OUTSIDE_CAUSES)
        assert not {t for t in said if len(t) > 40 and said.count(t) > 1}, screen
        for cause in page.locator(".cause.danger-emergency, .cause.danger-urgent").all():
            r, g, b = _rgb(cause.locator(".bar .fill").evaluate("e => getComputedStyle(e).fill"))
            assert not (g > r and g > b), f"{cause.inner_text()}: a dangerous cause drawn green"
        assert page.locator(".changes").count() == 0 or page.locator(".changes li").count() > 0
    context.close()


def test_back_and_change_answer(page: Page) -> None:
    _start(page, "")
    first = _heading(page)
    page.get_by_role("button", name="None of these").click()
    assert _heading(page) != first
    page.get_by_role("button", name="Back").click()
    assert _heading(page) == first
    page.get_by_role("button", name="None of these").click()
    _answer_until_done(page)
    changes = page.locator(".changes button")
    assert changes.count() >= 2
    given = page.locator(".changes .given").all_inner_texts()
    assert len(given) == changes.count() and given[0] == "Your answer: none of these"
    _accessible(page, "result-changes")
    changes.first.click()
    assert _heading(page) == first  # asked again, the later answers undone


def test_the_summary_prints_as_a_pdf_and_the_page_fits_a_phone(
    page: Page, browser: Browser, server: str
) -> None:
    from pypdf import PdfReader

    _start(page, "tingling in my lower back after sitting at my desk, goes when I move", "29")
    _answer_until_done(
        page, yes=("sitting", "position", "go away", "moving"), options=("lower_back", "posture", "clears")
    )
    page.wait_for_load_state("load")
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4")))
    text = unicodedata.normalize("NFKC", " ".join(p.extract_text() for p in pdf.pages))  # no "ﬂ" ligatures
    for expected in ("backtriage summary", "Red flags", "Knowledge base", _heading(page)):
        assert expected in text, expected
    assert "Delete my answers" not in text  # the print stylesheet leaves the controls out
    phone = browser.new_context(viewport={"width": 320, "height": 640}).new_page()
    for path in ("/", "/interview"):
        phone.goto(server + path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 320, path
    phone.context.close()


def _tab_to(page: Page, selector: str) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(80):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def _enter(page: Page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_whole_interview_by_keyboard_alone(page: Page) -> None:
    _tab_to(page, "#text")
    page.keyboard.type("numb patch on my back after sitting, goes when I walk")
    _tab_to(page, "button.primary")
    _enter(page)
    for _ in range(30):
        if "/result" in page.url:
            break
        if page.locator('button[value="none"]').count():
            _tab_to(page, 'button[value="none"]')
        elif page.locator('input[name="option"]').count():
            _tab_to(page, 'button[value="unsure"]')
        else:
            _tab_to(page, 'input[value="yes"]')  # a radio group takes one Tab; arrows move in it
            page.keyboard.press("ArrowDown")
            assert page.locator('input[value="no"]').is_checked()
            _tab_to(page, "button.primary")
        _enter(page)
    assert "/result" in page.url
    assert page.locator(".outcome h1").inner_text()


ATTACK = """<!doctype html><html><body>
<form id="f" method="post" action="{action}">
<input name="text" value="no saddle numbness, bladder normal"></form>
<script>document.getElementById("f").submit();</script></body></html>"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        """No request lines on the test's output."""


@pytest.fixture(scope="module")
def other_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A second site (localhost, not 127.0.0.1: another site to the browser) serving pages that
    post a form to the page as soon as they load."""
    folder = tmp_path_factory.mktemp("other-site")
    port = free_port()
    handler = functools.partial(_Quiet, directory=str(folder))
    site = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{port}", folder
    site.shutdown()
    site.server_close()


@pytest.mark.parametrize("action", ["/start", "/forget"])
def test_another_site_cannot_drive_the_page(
    browser: Browser, server: str, other_site: tuple[str, Path], action: str
) -> None:
    """A page elsewhere that auto-submits a form to the page (starting an interview with the red
    flags answered "no", or forgetting one) changes nothing: the person's interview stays theirs."""
    site, folder = other_site
    (folder / "attack.html").write_text(ATTACK.format(action=server + action), encoding="utf-8")
    context = browser.new_context()
    page = context.new_page()
    page.goto(server + "/")
    _start(page, "my back goes numb when I sit at my desk")
    page.wait_for_url("**/interview")
    before = {c["name"]: c["value"] for c in context.cookies()}
    page.goto(site + "/attack.html")
    page.wait_for_url(server + action)
    assert _heading(page) == "Nothing was changed"
    after = {c["name"]: c["value"] for c in context.cookies()}
    assert after.get("bt_interview") == before["bt_interview"]
    page.goto(server + "/interview")
    assert page.locator('form[action="/interview/answer"]').count() == 1  # the same interview goes on
    context.close()
