"""The interview as an SDC adaptive Questionnaire (`POST /fhir/Questionnaire/$next-question`), over
HTTP like an EHR's form filler: whole sessions, the profiles on every response, refusals as
OperationOutcomes, "None of these", and the finished JSON interview as the same resource."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fhirpathpy
import httpx
import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from hypothesis import given, settings
from hypothesis import strategies as st

from backtriage.domain.case import Case
from backtriage.interfaces.api import create_app
from backtriage.interop.fhir.questionnaire import (
    HIDDEN,
    completed_questionnaire_response,
    profile_problems,
    questionnaire_answers,
)
from backtriage.knowledge.loader import KnowledgeBase
from backtriage.reasoning.engine import Engine
from backtriage.service import InterviewView, TriageService
from backtriage.settings import Settings
from backtriage.storage import AuditStore

DATA = Path(__file__).parent / "data" / "sdc"
URL = "/fhir/Questionnaire/$next-question"
FHIR_JSON = "application/fhir+json"
LOINC = "http://loinc.org"
YES_NO = {True: "LA33-6", False: "LA32-8", None: "LA4489-6"}
CANARY = "CANARY-5e1d numb between my legs"

Json = dict[str, Any]
Story = Mapping[str, bool | None]


# ---- the app, as tests/interfaces/test_api.py builds it ------------------------------------------
@pytest.fixture
def store(tmp_path: Path) -> AuditStore:
    s = AuditStore(f"sqlite:///{tmp_path / 'api.db'}")
    s.upgrade()
    return s


def client_for(store: AuditStore, **settings: object) -> TestClient:
    config = Settings(database_url=store.url, **settings)  # type: ignore[arg-type]
    return TestClient(create_app(config, TriageService(store)))


@pytest.fixture
def client(store: AuditStore) -> Iterator[TestClient]:
    with client_for(store, require_api_key=False, rate_limit_per_minute=100_000) as c:
        yield c


# ---- a form filler -----------------------------------------------------------------------------------
def start_body(kb: KnowledgeBase) -> Json:
    """A client's first body, written by hand (not by our own helper): no items yet."""
    text = (DATA / "start.json").read_text().replace("KB_VERSION", kb.version)
    return json.loads(text)  # type: ignore[no-any-return]


def wrapped(qr: Json, how: str) -> Json:
    if how == "raw":
        return qr
    return {"resourceType": "Parameters", "parameter": [{"name": how, "resource": qr}]}


def post(client: TestClient, body: Any, media: str = FHIR_JSON) -> httpx.Response:
    content = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, content=content, headers={"content-type": media})


def yes_no(value: bool | None) -> Json:
    return {"valueCoding": {"system": LOINC, "code": YES_NO[value]}}


def answer_item(item: Json, story: Story, default: bool | None, kb: KnowledgeBase) -> Json | None:
    """What a person with this story answers to one item, as a form filler writes it: each
    option of a checklist on its own, "None of these" when every one is "no"; in a "choose all
    that apply" without it, only the options that hold; in a single choice, the first that fits."""
    link = item["linkId"]
    if item["type"] == "group":
        options = [c for c in item["item"] if c["type"] == "choice"]
        checklist = any(c["linkId"] == f"{link}.none-of-these" for c in item["item"])
        said = {c["linkId"]: story.get(c["linkId"].split(".", 1)[1], default) for c in options}
        if checklist and all(v is False for v in said.values()):
            return {
                "linkId": link,
                "item": [{"linkId": f"{link}.none-of-these", "answer": [{"valueBoolean": True}]}],
            }
        kept = {k: v for k, v in said.items() if (v is not None if checklist else v is True)}
        return {"linkId": link, "item": [{"linkId": k, "answer": [yes_no(v)]} for k, v in kept.items()]}
    first = item["answerOption"][0]["valueCoding"]
    if first["system"] == LOINC:
        return {"linkId": link, "answer": [yes_no(story.get(link, default))]}
    option = single_choice(kb, link, story, default)
    chosen = [o for o in item["answerOption"] if option and o["valueCoding"]["code"] == f"{link}.{option}"]
    return {"linkId": link, "answer": chosen} if chosen else None


def single_choice(kb: KnowledgeBase, question: str, story: Story, default: bool | None) -> str | None:
    """The option of a single choice this story fits (None: it does not settle it)."""
    fits = [
        o.id for o in kb.questions[question].options if o.finding and story.get(o.finding, default) is o.value
    ]
    return fits[0] if fits else None


def checked(r: httpx.Response, kb: KnowledgeBase) -> Json:
    """A 200 that is an R4 QuestionnaireResponse meeting the adapt profiles and R4's invariants."""
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith(FHIR_JSON)
    body: Json = r.json()
    qr = QuestionnaireResponse.model_validate(body)
    assert profile_problems(qr, kb) == []
    assert body["status"] in ("in-progress", "completed")
    questionnaire = body["contained"][0]
    # que-1: groups hold items, display items none; qrs-1: answers and items never side by side
    assert not fhirpathpy.evaluate(
        questionnaire, "Questionnaire.repeat(item).where(type='group' and item.empty())"
    )
    assert not fhirpathpy.evaluate(
        questionnaire, "Questionnaire.repeat(item).where(type='display' and item.exists())"
    )
    assert not fhirpathpy.evaluate(
        body, "QuestionnaireResponse.repeat(item).where(answer.exists() and item.exists())"
    )
    return body


def session(
    client: TestClient, kb: KnowledgeBase, story: Story, default: bool | None, how: str = "raw"
) -> Json:
    """From an empty contained Questionnaire to `completed`, answering each new item."""
    body = checked(post(client, wrapped(start_body(kb), how)), kb)
    for _ in range(40):
        if body["status"] == "completed":
            return body
        item = body["contained"][0]["item"][-1]
        answer = answer_item(item, story, default, kb)
        body = copy.deepcopy(body)
        if answer is not None:
            body["item"] = [*body.get("item", []), answer]
        body = checked(post(client, wrapped(body, how)), kb)
    raise AssertionError("the interview did not end")


def result(body: Json) -> tuple[str, list[str]]:
    """The urgency code and the leading causes of a completed response."""
    group = next(i for i in body["item"] if i["linkId"] == "result")
    urgency = next(i for i in group["item"] if i["linkId"] == "result.urgency")["answer"][0]["valueCoding"]
    assert urgency["system"] == "https://fhir.backtriage.org/CodeSystem/urgency"
    causes = [
        c["item"][0]["answer"][0]["valueCoding"]["code"]
        for c in group["item"]
        if c["linkId"] == "result.cause"
    ]
    return urgency["code"], causes


def asked(body: Json) -> list[str]:
    return [i["linkId"] for i in body["contained"][0].get("item", []) if i["linkId"] != "result"]


POSTURE = {
    "lower_back_symptoms": True,
    "posture_related": True,
    "resolves_with_movement": True,
}


# ---- whole sessions --------------------------------------------------------------------------------
def test_saddle_numbness_ends_quickly_as_an_emergency(
    client: TestClient, store: AuditStore, kb: KnowledgeBase
) -> None:
    body = session(client, kb, {"saddle_anaesthesia": True}, default=None)
    urgency, causes = result(body)
    assert urgency == "emergency" and causes[0] == "cauda_equina_syndrome"
    assert asked(body)[0] == "emergency_screen" and len(asked(body)) <= 3
    out = io.StringIO()  # the completed interview is in the audit store, as every assessment is
    store.export(out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["type"], r["urgency"]) for r in records] == [("assessment", "emergency")]
    assert records[0]["inputs"]["answers"]["saddle_anaesthesia"] is True


@pytest.mark.parametrize("how", ["raw", "questionnaire-response", "in"])
def test_a_harmless_posture_story_with_no_red_flags_is_no_emergency(
    client: TestClient, kb: KnowledgeBase, how: str
) -> None:
    body = session(client, kb, POSTURE, default=False, how=how)
    urgency, causes = result(body)
    assert urgency == "self_care" and causes[0] == "positional_nerve_compression"
    assert asked(body)[:2] == ["emergency_screen", "red_flags"]
    onset = next(i for i in body["item"] if i["linkId"] == "onset")  # "Gradually": a single choice
    assert onset["answer"][0]["valueCoding"]["code"] == "onset.gradual"
    # the result: hidden, read-only items, as SDC wants computed scores
    group = next(i for i in body["contained"][0]["item"] if i["linkId"] == "result")
    leaves = fhirpathpy.evaluate(group, "repeat(item).where(type != 'group')")
    assert leaves and all(
        i["readOnly"] and i["extension"] == [{"url": HIDDEN, "valueBoolean": True}] for i in leaves
    )


def test_plain_json_is_accepted_and_the_answer_is_deterministic_and_nothing_is_stored(
    client: TestClient, kb: KnowledgeBase, store: AuditStore
) -> None:
    first = post(client, start_body(kb), media="application/json")
    again = post(client, start_body(kb), media="application/json; charset=utf-8")
    assert checked(first, kb) == checked(again, kb) and first.content == again.content
    out = io.StringIO()
    store.export(out)
    assert out.getvalue() == ""


def test_the_same_story_asks_the_same_as_the_json_interview(
    client: TestClient, kb: KnowledgeBase, store: AuditStore
) -> None:
    """The SDC session and the JSON interview of the same story ask the same questions in the same
    order, read the same answers and reach the same urgency; and the finished JSON interview, as a
    QuestionnaireResponse, holds the very items the session built."""
    sdc = session(client, kb, POSTURE, default=False)
    view = json_interview(TriageService(store), POSTURE, default=False)
    assert asked(sdc) == view.asked
    assert questionnaire_answers(kb, QuestionnaireResponse.model_validate(sdc)) == view.answers
    made = completed_questionnaire_response(
        kb, view, "Patient/example", datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    )
    made_json = json.loads(made.model_dump_json(exclude_none=True))
    assert made_json["contained"][0]["item"] == sdc["contained"][0]["item"]
    assert result(made_json) == result(sdc)


def json_interview(
    service: TriageService, story: Story, default: bool | None, opening: Story | None = None
) -> InterviewView:
    """The same story told to the JSON interview, the way tests/interfaces/test_api.py answers."""
    view = service.start_interview(Case(answers=dict(opening or {})))
    while not view.done:
        q = view.question
        assert q is not None
        answers: dict[str, bool | None] = {}
        if q.kind == "yes_no":
            assert q.finding is not None
            answers = {q.finding: story.get(q.finding, default)}
        elif q.kind == "multi_choice":
            said = {o.finding: story.get(o.finding, default) for o in q.options if o.finding}
            answers = {f: v for f, v in said.items() if (v is not None if q.none_of_these else v is True)}
        else:
            fit = single_choice(service.engine.kb, q.id, story, default)
            option = next((o for o in q.options if o.id == fit), None)
            answers = {option.finding: option.value} if option and option.finding else {}
        view = service.answer(view.id, answers)
    return view


# ---- "None of these" --------------------------------------------------------------------------------
def first_step(client: TestClient, kb: KnowledgeBase) -> Json:
    body = checked(post(client, start_body(kb)), kb)
    assert asked(body) == ["emergency_screen"]
    return body


def answered(body: Json, *items: Json) -> Json:
    body = copy.deepcopy(body)
    body["item"] = [*body.get("item", []), *items]
    return body


def screen_findings(kb: KnowledgeBase) -> set[str]:
    return {o.finding for o in kb.questions["emergency_screen"].options if o.finding}


def test_none_of_these_is_explicit_and_an_unanswered_checklist_is_never_no(
    client: TestClient, kb: KnowledgeBase
) -> None:
    start = first_step(client, kb)
    none = {"linkId": "emergency_screen.none-of-these", "answer": [{"valueBoolean": True}]}
    ticked = checked(post(client, answered(start, {"linkId": "emergency_screen", "item": [none]})), kb)
    read = questionnaire_answers(kb, QuestionnaireResponse.model_validate(ticked))
    assert read == {f: False for f in screen_findings(kb)}
    # Left unanswered, nothing is "no": the mandatory screen asks saddle numbness itself later.
    skipped = checked(post(client, start), kb)
    assert questionnaire_answers(kb, QuestionnaireResponse.model_validate(skipped)) == {}
    none_red = {"linkId": "red_flags.none-of-these", "answer": [{"valueBoolean": True}]}
    after_ticked = checked(post(client, answered(ticked, {"linkId": "red_flags", "item": [none_red]})), kb)
    after_skipped = checked(post(client, answered(skipped, {"linkId": "red_flags", "item": [none_red]})), kb)
    assert asked(after_skipped)[-1] == "saddle_anaesthesia"
    assert "saddle_anaesthesia" not in asked(after_ticked)


def test_a_yes_beside_none_of_these_stands_and_leaves_the_rest_unknown(
    client: TestClient, kb: KnowledgeBase
) -> None:
    start = first_step(client, kb)
    both = {
        "linkId": "emergency_screen",
        "item": [
            {"linkId": "emergency_screen.saddle_anaesthesia", "answer": [yes_no(True)]},
            {"linkId": "emergency_screen.none-of-these", "answer": [{"valueBoolean": True}]},
        ],
    }
    body = checked(post(client, answered(start, both)), kb)
    assert questionnaire_answers(kb, QuestionnaireResponse.model_validate(body)) == {
        "saddle_anaesthesia": True
    }


def test_items_sent_back_without_answers_answer_nothing(client: TestClient, kb: KnowledgeBase) -> None:
    start = first_step(client, kb)
    bare = {
        "linkId": "emergency_screen",
        "item": [
            {"linkId": "emergency_screen.chest_pain"},
            {"linkId": "emergency_screen.none-of-these", "answer": [{"valueBoolean": False}]},
        ],
    }
    body = checked(post(client, answered(start, bare)), kb)
    assert questionnaire_answers(kb, QuestionnaireResponse.model_validate(body)) == {}
    # the help text of the next question, sent back unanswered as some form fillers do
    assert asked(body)[-1] == "red_flags"
    help_back = {"linkId": "red_flags", "item": [{"linkId": "red_flags.help", "text": "a help text"}]}
    checked(post(client, answered(body, help_back)), kb)


# ---- refusals ------------------------------------------------------------------------------------------
def refused(r: httpx.Response, status: int, where: str) -> Json:
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"].startswith(FHIR_JSON)
    outcome: Json = r.json()
    assert outcome["resourceType"] == "OperationOutcome"
    expressions = [e for issue in outcome["issue"] for e in issue.get("expression", [])]
    assert any(where in e for e in expressions), expressions
    assert CANARY not in r.text
    return outcome


def test_a_tampered_questionnaire_is_refused(client: TestClient, kb: KnowledgeBase) -> None:
    start = first_step(client, kb)
    older = copy.deepcopy(start)
    older["contained"][0]["derivedFrom"] = ["https://fhir.backtriage.org/Questionnaire/back-numbness|0.0.1"]
    refused(post(client, older), 422, "contained[0].derivedFrom")
    done = copy.deepcopy(start)
    done["status"] = "completed"
    refused(post(client, done), 422, "QuestionnaireResponse.status")
    reworded = copy.deepcopy(start)
    reworded["contained"][0]["item"][0]["text"] = CANARY
    refused(post(client, reworded), 422, "contained[0].item[0]")
    extra = copy.deepcopy(start)
    extra["contained"][0]["item"].append({"linkId": "fever", "text": CANARY, "type": "boolean"})
    refused(
        post(client, answered(extra, {"linkId": "fever", "answer": [{"valueBoolean": True}]})), 422, "item[1]"
    )
    # an answer to an item never asked, its linkId patient text or a finding id
    for link in ("saddle_anaesthesia", CANARY):
        refused(
            post(client, answered(start, {"linkId": link, "answer": [yes_no(True)]})), 422, "item[0].linkId"
        )
    stray = {"linkId": "emergency_screen", "item": [{"linkId": CANARY, "answer": [yes_no(True)]}]}
    refused(post(client, answered(start, stray)), 422, "item[0].item[0].linkId")


def test_an_earlier_answer_cannot_change_under_a_later_question(
    client: TestClient, kb: KnowledgeBase
) -> None:
    none = {
        "linkId": "emergency_screen",
        "item": [{"linkId": "emergency_screen.none-of-these", "answer": [{"valueBoolean": True}]}],
    }
    second = checked(post(client, answered(first_step(client, kb), none)), kb)
    changed = copy.deepcopy(second)
    changed["item"][0] = {
        "linkId": "emergency_screen",
        "item": [{"linkId": "emergency_screen.chest_pain", "answer": [yes_no(True)]}],
    }
    refused(post(client, changed), 422, "contained[0].item[1]")


def test_the_adapt_profiles_are_checked_by_hand(client: TestClient, kb: KnowledgeBase) -> None:
    body = start_body(kb)
    q = body["contained"][0]
    q["extension"][0]["url"] = (
        "http://hl7.org/fhir/StructureDefinition/sdc-questionnaire-questionnaireAdaptive"
    )
    q["url"] = "https://example.org/Questionnaire/mine"
    del q["title"]
    body["subject"] = {"reference": "Group/ward-3"}
    del body["authored"]
    outcome = refused(post(client, body), 422, "contained[0].extension")
    where = {e for issue in outcome["issue"] for e in issue["expression"]}
    assert {"QuestionnaireResponse.contained[0].url", "QuestionnaireResponse.contained[0].title"} <= where
    assert {"QuestionnaireResponse.subject", "QuestionnaireResponse.authored"} <= where
    body = start_body(kb)
    body["questionnaire"] = "#elsewhere"
    refused(post(client, body), 422, "QuestionnaireResponse.questionnaire")


@pytest.mark.parametrize(
    ("answer", "where"),
    [
        ({"valueString": CANARY}, "item[0].answer"),
        ({"valueCoding": {"system": LOINC, "code": "LA9633-4"}}, "item[0].answer[0]"),
    ],
)
def test_an_answer_outside_the_items_options_is_refused(
    client: TestClient, kb: KnowledgeBase, answer: Json, where: str
) -> None:
    start = first_step(client, kb)
    item = {
        "linkId": "emergency_screen",
        "item": [{"linkId": "emergency_screen.chest_pain", "answer": [answer]}],
    }
    refused(post(client, answered(start, item)), 422, where)


def test_what_is_not_an_r4_questionnaire_response_is_a_400(client: TestClient, kb: KnowledgeBase) -> None:
    refused(post(client, "{not json"), 400, "$")
    refused(post(client, {"resourceType": "Patient"}), 400, "resourceType")
    refused(post(client, {"resourceType": "Parameters", "parameter": [{"name": "other"}]}), 400, "Parameters")
    bad_time = start_body(kb) | {"authored": CANARY}
    refused(post(client, bad_time), 400, "QuestionnaireResponse.authored")
    refused(post(client, start_body(kb) | {CANARY: 1}), 400, "(unknown element)")
    refused(post(client, start_body(kb), media="text/plain"), 415, "$")


def test_the_api_key_is_required_and_its_refusal_is_an_operation_outcome(
    store: AuditStore, kb: KnowledgeBase
) -> None:
    _, secret = store.create_api_key("ehr")
    with client_for(store) as c:
        r = post(c, start_body(kb))
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert r.json()["issue"][0]["code"] == "login"
        ok = c.post(
            URL, json=start_body(kb), headers={"Authorization": f"Bearer {secret}", "content-type": FHIR_JSON}
        )
        assert checked(ok, kb)["status"] == "in-progress"


# ---- a finished JSON interview as a completed QuestionnaireResponse --------------------------------------
def test_a_finished_json_interview_with_an_opening_becomes_a_completed_response(
    store: AuditStore, kb: KnowledgeBase
) -> None:
    """What no question asked can hold (known from the opening) goes in a `given` group first."""
    opening = {"posture_related": True, "muscle_tightness": False}
    view = json_interview(TriageService(store), POSTURE, default=False, opening=opening)
    assert "muscle_tightness" not in view.asked
    qr = completed_questionnaire_response(kb, view, "Patient/example", datetime(2025, 3, 1, 9, 30))
    again = QuestionnaireResponse.model_validate(json.loads(qr.model_dump_json(exclude_none=True)))
    assert again.status == "completed" and profile_problems(again, kb) == []
    assert questionnaire_answers(kb, again) == view.answers
    body = json.loads(qr.model_dump_json(exclude_none=True))
    assert asked(body) == ["given", *view.asked]
    given_item = next(i for i in body["item"] if i["linkId"] == "given")
    assert [i["linkId"] for i in given_item["item"]] == ["given.muscle_tightness"]
    assert view.assessment is not None and result(body)[0] == view.assessment.urgency.value
    assert body["authored"] == "2025-03-01T09:30:00Z"  # a time without a zone is taken as UTC
    with pytest.raises(ValueError, match="not finished"):
        completed_questionnaire_response(
            kb, view.model_copy(update={"done": False}), "Patient/1", datetime.now(UTC)
        )


QUESTION_IDS = ["emergency_screen", "red_flags", "where", "pattern", "onset"]


@given(data=st.data())
@settings(max_examples=30, deadline=None)
def test_answers_round_trip_through_items(kb: KnowledgeBase, engine: Engine, data: st.DataObject) -> None:
    """Any answers, held by any questions asked in any order, read back from the items exactly."""
    findings = [f.id for f in kb.asked_findings]
    answers = data.draw(
        st.dictionaries(st.sampled_from(findings), st.sampled_from([True, False, None]), max_size=40)
    )
    order = data.draw(st.lists(st.sampled_from(QUESTION_IDS + findings), unique=True, max_size=12))
    view = InterviewView(
        id="x",
        status="done",
        done=True,
        assessment=engine.assess(Case(answers=answers)),
        questions_asked=len(order),
        asked=order,
        answers=answers,
    )
    qr = completed_questionnaire_response(kb, view, "Patient/p1", datetime(2025, 1, 1, tzinfo=UTC))
    again = QuestionnaireResponse.model_validate(json.loads(qr.model_dump_json(exclude_none=True)))
    assert questionnaire_answers(kb, again) == answers
    assert profile_problems(again, kb) == []
