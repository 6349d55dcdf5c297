"""Pictures of the patient's page for the docs, made afresh from a real `backtriage serve`.

    python scripts/screenshots.py [--out docs/screenshots]

Starts the server on 127.0.0.1 with a fresh SQLite store in a temporary folder, drives the
system's Chromium (Playwright, no browser download) through made-up stories, and saves:

- start.png, question.png: the first page and the first question (desktop);
- body-map.png: the "where" question on a 375 px phone, "Lower back" already answered from the
  opening text and "Down a leg" tapped (the question's card only);
- result.png: the result of a sciatica story, answered as that person would (desktop), and
  result-phone.png, its top on a phone;
- emergency.png: the emergency screen for cauda equina, and emergency-stroke.png for a stroke
  (both on a phone);
- summary-pdf.png: page 1 of that result's summary for a clinician, `/summary.pdf` as the
  server makes it (fetched in the same browser session, drawn with pypdfium2).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pypdfium2
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1000, "height": 900}
#: How the person with sciatica answers: yes to these words, these options ticked.
SCIATICA_YES = ("cough", "sit", "one side", "below your knee", "leg worse", "buttock")
SCIATICA_OPTIONS = ("buttock", "leg", "constant", "gradual")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
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
            return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("backtriage serve did not answer within 60 s")


def _start(page: Page, url: str, text: str, age: str = "") -> None:
    page.goto(url + "/")
    page.get_by_label("In your own words").fill(text)
    if age:
        page.get_by_label("Age (optional)").fill(age)
    page.get_by_role("button", name="Start").click()


def _answer(page: Page, yes: tuple[str, ...] = (), options: tuple[str, ...] = (), until: str = "") -> None:
    """The given options where a question offers them, else "None of these" (or "I'm not sure" on
    a one-choice question); yes to questions holding a word that starts with one in `yes`, not
    sure to a clinician's question, no to the rest; up to the result, or to the first page
    showing `until`."""
    for _ in range(30):
        if "/result" in page.url or (until and page.locator(until).count()):
            return
        boxes = page.locator('input[name="option"]')
        if boxes.count():
            chosen = [page.locator(f'input[name="option"][value="{o}"]') for o in options]
            for box in chosen:
                if box.count():
                    box.check()
            if page.locator('input[name="option"]:checked').count():
                page.get_by_role("button", name="Continue").click()
            elif page.get_by_role("button", name="None of these").count():
                page.get_by_role("button", name="None of these").click()
            elif boxes.first.get_attribute("type") == "radio":
                page.get_by_role("button", name="I'm not sure").click()
            else:
                page.get_by_role("button", name="Continue").click()
            continue
        question = page.locator("h1").first.inner_text().lower()
        said = any(re.search(rf"\b{re.escape(word)}", question) for word in yes)
        clinicians = question.startswith("(clinician)")  # a test only a clinician can do
        page.get_by_label("I'm not sure" if clinicians else "Yes" if said else "No", exact=True).check()
        page.get_by_role("button", name="Continue").click()
    raise SystemExit("the interview did not end")


def _shoot(page: Page, out: Path, name: str, full_page: bool = True) -> None:
    page.screenshot(path=str(out / name), full_page=full_page)
    sys.stdout.write(f"{out / name}\n")


def take(browser: Browser, url: str, out: Path) -> None:
    desktop = browser.new_context(viewport=DESKTOP)
    page = desktop.new_page()
    page.goto(url + "/")
    _shoot(page, out, "start.png")
    page.get_by_role("button", name="Start").click()
    _shoot(page, out, "question.png")
    desktop.close()

    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, has_touch=True)
    page = phone.new_page()
    _start(page, url, "my lower back goes numb and tingly when I sit for ages, gone when I walk about", "34")
    _answer(page, yes=("sitting", "position", "go away", "moving"), until=".bodymap")
    page.locator('.region[data-option="leg"]').tap()
    page.locator("form.question").screenshot(path=str(out / "body-map.png"))
    sys.stdout.write(f"{out / 'body-map.png'}\n")
    phone.close()

    desktop = browser.new_context(viewport=DESKTOP)
    page = desktop.new_page()
    _start(
        page,
        url,
        "shooting pain from my buttock down the outside of my left leg to the top of my foot, "
        "my big toe is numb, worse when I sit and when I cough",
        "45",
    )
    _answer(page, yes=SCIATICA_YES, options=SCIATICA_OPTIONS)
    _shoot(page, out, "result.png")
    _summary_pdf(page, url, out / "summary-pdf.png")
    desktop.close()

    phone = browser.new_context(viewport=PHONE, device_scale_factor=2)
    page = phone.new_page()
    _start(
        page, url, "bad back for a week, now I can't feel the toilet paper when I wipe and can't pee properly"
    )
    _shoot(page, out, "emergency.png")
    _start(page, url, "my face dropped on one side and my arm went numb, my speech is slurred")
    _shoot(page, out, "emergency-stroke.png")
    _start(
        page,
        url,
        "shooting pain from my buttock down the outside of my left leg to the top of my foot, "
        "my big toe is numb, worse when I sit and when I cough",
        "45",
    )
    _answer(page, yes=SCIATICA_YES, options=SCIATICA_OPTIONS)
    _shoot(page, out, "result-phone.png", full_page=False)
    phone.close()


def _summary_pdf(page: Page, url: str, path: Path) -> None:
    """Page 1 of `/summary.pdf`, fetched with the page's cookies (its interview), as a PNG."""
    reply = page.request.get(url + "/summary.pdf", max_redirects=0)
    if reply.status != 200 or reply.headers.get("content-type") != "application/pdf":
        raise SystemExit(f"/summary.pdf answered {reply.status} {reply.headers.get('content-type')}")
    pdf = pypdfium2.PdfDocument(reply.body())
    try:
        bitmap = pdf[0].render(scale=2)  # 144 dpi: an A4 page about 1190 px wide
        bitmap.to_pil().save(path)
    finally:
        pdf.close()
    sys.stdout.write(f"{path}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("no Chromium installed (apt-get install chromium)")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        process, url = _serve(Path(folder))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                take(browser, url, args.out)
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
