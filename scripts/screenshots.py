"""Pictures of the patient's page for the docs, made afresh from a real `backtriage serve`.

    python scripts/screenshots.py [--out docs/screenshots]

Starts the server on 127.0.0.1 with a fresh SQLite store in a temporary folder, drives the
system's Chromium (Playwright, no browser download) through made-up stories, and saves:

- start.png, question.png: the first page and the first question (desktop);
- body-map.png: the "where" question on a 375 px phone, "Lower back" already answered from the
  opening text and "Down a leg" tapped (the question's card only);
- result.png: a result whose likely causes include a dangerous one (desktop), and
  result-phone.png, its top on a phone;
- emergency.png: the emergency screen for cauda equina, and emergency-stroke.png for a stroke
  (both on a phone);
- printed-summary.png: the summary to show a clinician (the `/summary` page when there is one,
  otherwise the result page as printed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1000, "height": 900}


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
    """ "None of these" on the checklists, the given options, yes to questions holding a word in
    `yes`, no to the rest; up to the result, or to the first page showing `until`."""
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
        question = page.locator("h1").first.inner_text().lower()
        page.get_by_label("Yes" if any(w in question for w in yes) else "No", exact=True).check()
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
    _answer(page, yes=("cough", "sit"))
    _shoot(page, out, "result.png")
    if _has_summary_page(url, page):
        page.goto(url + "/summary")
    else:
        page.emulate_media(media="print")
    _shoot(page, out, "printed-summary.png")
    page.emulate_media(media="screen")
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
    _answer(page, yes=("cough", "sit"))
    _shoot(page, out, "result-phone.png", full_page=False)
    phone.close()


def _has_summary_page(url: str, page: Page) -> bool:
    """Whether the server has a summary page of its own (an HTML page at /summary)."""
    reply = page.request.get(url + "/summary", max_redirects=0)
    return reply.status == 200 and "text/html" in reply.headers.get("content-type", "")


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
