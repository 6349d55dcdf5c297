"""The patient's page without a browser: forms, redirects, cookies, privacy and wording."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backtriage.domain.interview import Question, QuestionOption, QuestionReason, WhyAsked
from backtriage.interfaces.api import create_app
from backtriage.interfaces.presentation import share_in_ten
from backtriage.interfaces.web.answers import answers_from_form
from backtriage.reasoning.engine import default_engine
from backtriage.service import TriageService
from backtriage.settings import Settings
from backtriage.storage import AuditStore
from backtriage.storage.models import InterviewRecord

CANARY = "CANARY-web numb bum since tuesday"
WHY = QuestionReason(kind=WhyAsked.TELLS_APART)


def _client(tmp_path: Path, **settings: object) -> tuple[TestClient, AuditStore]:
    store = AuditStore(f"sqlite:///{tmp_path / 'web.db'}")
    store.upgrade()
    config = Settings(database_url=store.url, **settings)  # type: ignore[arg-type]
    service = TriageService(store, default_engine(config.emergency_number), store_text=config.store_text)
    return TestClient(create_app(config, service, warm_up=True)), store  # the reader ready before requests


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    c, _ = _client(tmp_path)
    with c:
        yield c


def _post(client: TestClient, path: str, data: dict[str, str] | None = None, **kwargs: Any) -> Any:
    """A form sent from the page, as a browser would: with the token the page put in it."""
    if "bt_csrf" not in client.cookies:
        client.get("/")
    return client.post(path, data={**(data or {}), "csrf": client.cookies["bt_csrf"]}, **kwargs)


def _heading(html: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, flags=re.S)
    assert match, html[:500]
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_the_start_page_says_what_it_is_the_emergency_number_and_what_is_stored(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "Call 999 now if you have" in page.text
    assert "deleted after 365 days" in page.text and "delete your answers" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http://" not in page.text.replace("http://www.w3.org", "")  # nothing loaded from elsewhere


def test_a_cauda_equina_story_goes_straight_to_the_emergency_screen(client: TestClient) -> None:
    r = _post(
        client,
        "/start",
        data={"text": "my back hurts and I cant feel when I wipe, cant pee since this morning"},
    )
    assert r.status_code == 200 and str(r.url).endswith("/result")
    assert "Call 999 now" in _heading(r.text) and "Do not drive yourself" in r.text
    details = client.get("/result?details=1").text
    assert "A summary to show a clinician" in details and "cauda equina" in details.lower()


def test_the_interview_is_in_a_cookie_and_never_in_a_url(client: TestClient) -> None:
    r = _post(client, "/start", data={"text": CANARY, "age": "44"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/interview"
    cookie = r.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    page = client.get("/interview")
    assert "CANARY" not in str(page.url) and page.status_code == 200


def test_back_asks_the_same_question_again_and_forgets_its_answer(client: TestClient) -> None:
    first = _post(client, "/start", data={"text": ""})
    question = _heading(first.text)
    second = _post(client, "/interview/answer", data={"choice": "none"})
    assert _heading(second.text) != question
    again = _post(client, "/interview/back")
    assert _heading(again.text) == question


def test_choosing_nothing_on_a_red_flag_checklist_asks_again(client: TestClient) -> None:
    _post(client, "/start", data={})
    r = _post(client, "/interview/answer", data={"choice": "chosen"})
    assert "Please choose an answer" in r.text


def test_forgetting_deletes_the_interview(tmp_path: Path) -> None:
    c, store = _client(tmp_path)
    with c:
        _post(c, "/start", data={"text": "numb back"})
        with store.reading() as s:
            assert s.query(InterviewRecord).count() == 1
        r = _post(c, "/forget")
        assert "Your answers have been deleted" in r.text
    with store.reading() as s:
        assert s.query(InterviewRecord).count() == 0


def test_a_deployment_can_store_nothing_of_the_text(tmp_path: Path) -> None:
    c, store = _client(tmp_path, store_text=False)
    with c:
        page = c.get("/")
        assert "never stored" in page.text
        _post(c, "/start", data={"text": CANARY})
    with store.reading() as s:
        record = s.query(InterviewRecord).one()
        assert record.text is None and CANARY not in str(record.result)


def test_a_person_on_the_web_cannot_reach_an_api_interview(tmp_path: Path) -> None:
    c, _ = _client(tmp_path, require_api_key=False)
    with c:
        view = c.post("/v1/interviews", json={}).json()
        c.cookies.set("bt_interview", view["id"])
        assert str(c.get("/interview").url).endswith("/")  # not found for the page: start again


@pytest.mark.parametrize(
    ("probability", "words"),
    [
        (0.0, "fewer than 1 in 10"),
        (0.04, "fewer than 1 in 10"),
        (0.31, "about 3 in 10"),
        (0.97, "more than 9 in 10"),
    ],
)
def test_shares_are_natural_frequencies(probability: float, words: str) -> None:
    assert share_in_ten(probability) == words


def test_form_answers_cover_yes_no_unsure_none_and_choices() -> None:
    yes_no = Question(id="fever", kind="yes_no", text="Fever?", finding="fever", why=WHY)
    assert answers_from_form(yes_no, {"choice": "unsure"}) == {"fever": None}
    checklist = Question(
        id="c",
        kind="multi_choice",
        text="Any?",
        why=WHY,
        none_of_these=True,
        options=[
            QuestionOption(id="a", text="A", finding="fever"),
            QuestionOption(id="b", text="B", finding="rash"),
        ],
    )
    assert answers_from_form(checklist, {"choice": "none"}) == {"fever": False, "rash": False}
    assert answers_from_form(checklist, {"choice": "unsure"}) == {"fever": None, "rash": None}
    assert answers_from_form(checklist, {"choice": "chosen", "option": "b"}) == {"rash": True}


def _answer_everything_no(client: TestClient, first: object) -> str:
    r = first
    for _ in range(30):
        if str(r.url).endswith("/result"):  # type: ignore[attr-defined]
            return r.text  # type: ignore[attr-defined,no-any-return]
        html = r.text  # type: ignore[attr-defined]
        choice = "none" if 'value="none"' in html else "unsure" if 'name="option"' in html else "no"
        r = _post(client, "/interview/answer", data={"choice": choice})
    raise AssertionError("the interview did not end")


def test_a_root_pattern_shows_its_dermatome(client: TestClient) -> None:
    first = _post(
        client,
        "/start",
        data={
            "text": "shooting pain from my buttock down the outside of my left leg to the top of my foot, "
            "my big toe is numb, worse when I sit and when I cough",
            "age": "45",
        },
    )
    result = _answer_everything_no(client, first)
    assert "fits the L5 nerve root" in result and 'class="area fits"' in result
    assert "Change" in result and "Details for clinicians" in result


def test_red_flag_questions_left_unsure_are_listed_before_the_causes(client: TestClient) -> None:
    r = _post(client, "/start", data={"text": "my lower back goes tingly when I sit at my desk"})
    for _ in range(30):
        if str(r.url).endswith("/result"):
            break
        r = _post(client, "/interview/answer", data={"choice": "unsure"})
    html = r.text
    assert "Questions still open" in html, _heading(html)
    assert html.index("Questions still open") < html.index("What might be causing it")
    still_open = html[html.index("Questions still open") : html.index("What might be causing it")]
    assert "between your legs" in still_open


@pytest.mark.parametrize(
    ("token", "headers"),
    [
        (None, {}),  # no token: a form that did not come from the page
        ("forged-" + "x" * 40, {}),
        ("from the page", {"Origin": "http://elsewhere.example"}),
        ("from the page", {"Origin": "null"}),
        ("from the page", {"Sec-Fetch-Site": "cross-site"}),
        ("from the page", {"Sec-Fetch-Site": "same-site"}),  # another port on the same host
    ],
)
@pytest.mark.parametrize("path", ["/start", "/interview/answer", "/interview/back", "/forget"])
def test_a_form_from_anywhere_else_changes_nothing(
    tmp_path: Path, path: str, token: str | None, headers: dict[str, str]
) -> None:
    c, store = _client(tmp_path)
    with c:
        _post(c, "/start", data={"text": "numb back"})
        mine = c.cookies["bt_interview"]
        data = {"text": "no saddle numbness, bladder normal", "choice": "no"}
        if token is not None:
            data["csrf"] = c.cookies["bt_csrf"] if token == "from the page" else token
        r = c.post(path, data=data, headers=headers, follow_redirects=False)
        assert r.status_code == 403 and "Nothing was changed" in r.text
        assert "text/html" in r.headers["content-type"]
        assert "bt_interview" not in r.headers.get("set-cookie", "")
        assert c.cookies["bt_interview"] == mine
        assert c.get("/interview").status_code == 200  # the interview is still there, unanswered
    with store.reading() as s:
        assert s.query(InterviewRecord).count() == 1


def test_the_same_form_from_the_page_goes_through(client: TestClient) -> None:
    r = _post(client, "/start", data={"text": "numb back"}, headers={"Origin": "http://testserver"})
    assert str(r.url).endswith("/interview")
    r = _post(client, "/forget", headers={"Sec-Fetch-Site": "same-origin"})
    assert str(r.url).endswith("/?forgotten=1")


def test_a_trusted_proxy_saying_https_makes_the_cookies_secure(tmp_path: Path) -> None:
    plain, _ = _client(tmp_path / "a")
    behind, _ = _client(tmp_path / "b", trusted_proxies=("testclient",))
    forwarded = {"Forwarded": "for=192.0.2.60;proto=https;by=203.0.113.43"}
    with plain, behind:
        assert "secure" not in plain.get("/", headers=forwarded).headers["set-cookie"].lower()
        assert "secure" in behind.get("/", headers=forwarded).headers["set-cookie"].lower()
        assert "secure" not in behind.get("/").headers["set-cookie"].lower()


def test_too_many_page_posts_get_a_page_not_json(tmp_path: Path) -> None:
    c, _ = _client(tmp_path, rate_limit_per_minute=2)
    with c:
        replies = [_post(c, "/start", data={"text": "numb back"}, follow_redirects=False) for _ in range(4)]
    busy = replies[-1]
    assert busy.status_code == 429 and "text/html" in busy.headers["content-type"]
    assert "Too many requests" in busy.text and busy.headers["retry-after"]


def test_a_page_held_up_by_load_says_busy_try_again_never_shorten(tmp_path: Path) -> None:
    c, store = _client(tmp_path, read_timeout_seconds=0.05)

    def slow(*_: object, **__: object) -> None:
        import time

        time.sleep(1.0)

    c.app.state.service.start_interview = slow  # type: ignore[attr-defined]
    with c:
        r = _post(c, "/start", data={"text": "numb back"}, follow_redirects=False)
    assert r.status_code == 503 and "text/html" in r.headers["content-type"]
    assert "busy" in r.text and "shorten" not in r.text and "Something went wrong" not in r.text
    assert "numb back" not in r.text and r.headers["retry-after"] == "2"
    assert "call 999" in r.text  # an error page on a triage site still names the emergency number


def test_page_errors_are_pages_and_api_errors_stay_json(client: TestClient) -> None:
    too_long = _post(client, "/start", data={"text": "numb " * 25_000})
    assert too_long.status_code == 422 and "text/html" in too_long.headers["content-type"]
    assert "could not be read" in too_long.text and "numb numb" not in too_long.text
    wrong_method = client.get("/forget")
    assert wrong_method.status_code == 405 and "text/html" in wrong_method.headers["content-type"]
    api = client.post("/v1/assess", json={"answers": {"no_such_finding": True}})
    assert "application/json" in api.headers["content-type"]


CES = "bad back for a week, now I can't feel the toilet paper when I wipe and I can't pee properly"
STROKE = "my face dropped on one side and my arm went numb, my speech is slurred"


def test_the_emergency_screen_dials_the_number(tmp_path: Path) -> None:
    c, _ = _client(tmp_path, emergency_number="112")
    with c:
        page = _post(c, "/start", data={"text": CES}).text
        assert _heading(page) == "Call 112 now"
        assert re.search(r'<a class="call-now" href="tel:112">.*?Call 112</a>', page, flags=re.S)
        details = c.get("/result?details=1").text
        assert 'href="tel:112"' in details  # the details keep the number one tap away


def test_a_stroke_gets_its_own_words_not_the_backs(client: TestClient) -> None:
    page = _post(client, "/start", data={"text": STROKE}).text
    assert _heading(page) == "Call 999 now" and 'href="tel:999"' in page
    assert "A stroke or mini-stroke" in page and "note the time it started" in page
    assert "if you can get there safely" not in page  # the back's advice: not for a stroke
    details = client.get("/result?details=1").text
    outcome = details[details.index('class="outcome') : details.index("</section>")]
    assert "if you can get there safely" not in outcome and "Do not drive yourself" in outcome


def test_a_back_emergency_keeps_the_backs_words(client: TestClient) -> None:
    page = _post(client, "/start", data={"text": CES}).text
    assert "if you can get there safely" in page and "note the time it started" not in page


def _causes(html: str) -> list[tuple[str, str]]:
    """(danger class, cause name) of each likely cause listed."""
    return re.findall(r'<li class="cause danger-([a-z-]+)">\s*<h3>(.*?) <span', html, flags=re.S)


def test_causes_are_coloured_by_their_danger_not_their_likelihood(client: TestClient) -> None:
    _post(client, "/start", data={"text": CES})
    html = client.get("/result?details=1").text
    listed = _causes(html)
    assert len(listed) >= 2
    urgency = {
        c.lay_name: c.base_urgency.value.replace("_", "-") for c in default_engine().kb.conditions.values()
    }
    for style, name in listed:
        assert style == urgency[name], name
    assert listed[0][0] == "emergency"  # cauda equina leads, in the emergency colour, with words:
    assert "Dangerous: needs emergency care" in html
    css = (Path(__file__).parents[2] / "src/backtriage/interfaces/web/static/page.css").read_text()
    colour = dict(re.findall(r"\.danger-([a-z-]+) \{ --danger: ([^;]+);", css))
    assert set(colour) == {"emergency", "urgent", "routine", "self-care"}
    assert len(set(colour.values())) == 4  # each danger its own colour
    assert colour["self-care"] == "var(--self-care)"
    assert "self-care" not in colour["emergency"] + colour["urgent"]  # never the harmless green


def test_change_an_answer_shows_each_answer_given(client: TestClient) -> None:
    first = _post(client, "/start", data={"text": "numb patch on my back after sitting"})
    html = _answer_everything_no(client, first)
    section = html[html.index('id="change"') : html.index('class="clinician"')]
    rows = re.findall(
        r'<p class="asked">(.*?)</p>\s*<p class="given">Your answer: <strong>(.*?)</strong>', section
    )
    assert len(rows) >= 3 and len(rows) == section.count('name="to"')
    given = dict(rows)
    assert given["Is any of this happening now?"] == "none of these"
    # the "which of these describe it?" question shows what the opening text already answered
    pattern = next(v for q, v in given.items() if q.startswith("Which of these describe it?"))
    assert pattern == "Comes on after sitting, standing or lying in one position"
    words = {"yes", "no", "not sure", "none of these"}
    assert sum(v in words for v in given.values()) >= len(given) - 2, given


def _to_the_where_question(client: TestClient, text: str) -> str:
    r = _post(client, "/start", data={"text": text})
    for _ in range(30):
        if 'class="bodymap"' in r.text:
            return r.text  # type: ignore[no-any-return]
        choice = "none" if 'value="none"' in r.text else "unsure" if 'name="option"' in r.text else "no"
        r = _post(client, "/interview/answer", data={"choice": choice})
    raise AssertionError("the body map was never shown")


def test_the_map_and_the_list_offer_the_same_options_showing_what_is_answered(client: TestClient) -> None:
    html = _to_the_where_question(client, "my lower back goes numb when I sit at my desk")
    on_map = re.findall(r'<g class="region[^"]*" data-option="([a-z_]+)"', html)
    in_list = re.findall(r'<input type="checkbox"[^>]* data-option="([a-z_]+)"', html)
    assert sorted(on_map) == sorted(in_list) and len(on_map) == len(set(on_map)) == 9
    assert "lower_back" in on_map  # answered by the text: shown as answered, not left out
    region = re.search(r'<g class="region known" data-option="lower_back"[^>]*>', html, flags=re.S)
    assert region and 'aria-checked="true"' in region.group(0) and 'aria-disabled="true"' in region.group(0)
    box = re.search(r'<input type="checkbox" data-option="lower_back" disabled checked>', html)
    assert box and 'Lower back <span class="answered">(already answered: yes)' in html
    assert 'name="option" value="lower_back"' not in html  # shown, not asked again


def test_given_and_options_shown_read_the_answers_back() -> None:
    from backtriage.interfaces.web.answers import Given, given, options_shown

    kb = default_engine().kb
    assert given(kb, "where", {"lower_back_symptoms": True, "buttock_pain": False}) == Given(
        "options", ["Lower back"]
    )
    assert given(kb, "where", {"lower_back_symptoms": False}) == Given("none")
    assert given(kb, "where", {"lower_back_symptoms": None}) == Given("unsure")
    assert given(kb, "onset", {"sudden_onset": False}) == Given("options", ["Gradually"])
    finding = next(f for f in kb.findings.values() if f.question)
    assert given(kb, finding.id, {finding.id: None}) == Given("unsure")
    assert given(kb, finding.id, {}) is None
    question = Question(
        id="where",
        kind="multi_choice",
        text="Where?",
        why=WHY,
        options=[QuestionOption(id="leg", text="Spreading down a leg", finding="radiates_to_leg")],
    )
    shown = options_shown(kb, question, {"lower_back_symptoms": True, "buttock_pain": False})
    assert [(o.id, o.known, o.holds) for o in shown] == [
        ("lower_back", True, True),
        ("buttock", True, False),
        ("leg", False, False),
    ]
