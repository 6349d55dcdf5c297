"""Every code backtriage sends an EHR under its own canonical URL (FHIR bundle, adaptive
questionnaire, CDS Hooks card) is served: its CodeSystem answers at /fhir/CodeSystem/{id} and
holds the code. An EHR that looks a code up must find it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from backtriage.domain.case import Case
from backtriage.interop.fhir import assessment_bundle
from backtriage.interop.fhir.questionnaire import completed_questionnaire_response
from backtriage.interop.fhir.terminology_resources import code_systems
from backtriage.interop.terminology import load_terminology
from backtriage.knowledge.loader import KnowledgeBase
from backtriage.reasoning.engine import Engine
from backtriage.service import InterviewView

CARDS = Path(__file__).parent / "data" / "cds"
WHEN = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def _codings(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if isinstance(node.get("system"), str) and isinstance(node.get("code"), str):
            yield node["system"], node["code"]
        for value in node.values():
            yield from _codings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _codings(value)


def _assert_served(kb: KnowledgeBase, document: Any) -> int:
    served = {cs.url: {c.code for c in cs.concept or []} for cs in code_systems(kb).values()}
    own = [
        (s, c) for s, c in _codings(document) if s.startswith(load_terminology().canonical + "/CodeSystem/")
    ]
    for system, code in own:
        assert system in served, f"{system} is not served"
        assert code in served[system], f"{code} is not in {system}"
    return len(own)


@pytest.mark.parametrize(
    "answers",
    [
        {"saddle_anaesthesia": True, "bladder_dysfunction": True},
        {"posture_related": True, "resolves_with_movement": True, "fever": None},
        {"radiates_to_leg": True, "pain_below_knee": True, "foot_drop": False},
    ],
)
def test_every_own_code_in_a_bundle_is_served(kb: KnowledgeBase, engine: Engine, answers: Any) -> None:
    a = engine.assess(Case(answers=answers))
    bundle = json.loads(assessment_bundle(kb, a, subject="Patient/1", when=WHEN).model_dump_json())
    assert _assert_served(kb, bundle) > 5


def test_every_own_code_in_a_finished_questionnaire_is_served(kb: KnowledgeBase, engine: Engine) -> None:
    answers = {"saddle_anaesthesia": False, "radiates_to_leg": True, "posture_related": True}
    view = InterviewView(
        id="00000000-0000-0000-0000-000000000001",
        status="done",
        done=True,
        assessment=engine.assess(Case(answers=answers)),
        questions_asked=0,
        answers=answers,
    )
    qr = completed_questionnaire_response(kb, view, "Patient/1", WHEN)
    assert _assert_served(kb, json.loads(qr.model_dump_json(exclude_none=True))) > 0


@pytest.mark.parametrize("golden", sorted(CARDS.glob("*.cards.json")), ids=lambda p: p.name)
def test_every_own_code_on_a_card_is_served(kb: KnowledgeBase, golden: Path) -> None:
    _assert_served(kb, json.loads(golden.read_text()))
