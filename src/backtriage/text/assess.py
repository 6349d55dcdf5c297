"""Assess free text, optionally together with explicit answers (an explicit answer wins)."""

from __future__ import annotations

from collections.abc import Mapping

from backtriage.domain.assessment import Assessment, TextMention
from backtriage.domain.case import Answer, Case, Sex
from backtriage.reasoning.engine import Engine, default_engine
from backtriage.text.pipeline import TextPipeline
from backtriage.text.understand import understand

__all__ = ["assess_text", "merge_text_and_answers"]


def merge_text_and_answers(
    text_answers: Mapping[str, bool], explicit: Mapping[str, Answer]
) -> dict[str, Answer]:
    """Explicit yes/no answers override what the text said; an explicit "don't know" does not
    erase what the text said clearly."""
    merged: dict[str, Answer] = dict(text_answers)
    for fid, value in explicit.items():
        if value is not None or fid not in merged:
            merged[fid] = value
    return merged


def assess_text(
    text: str,
    case: Case | None = None,
    engine: Engine | None = None,
    pipeline: TextPipeline | None = None,
    *,
    language: str | None = None,
) -> Assessment:
    """Read ``text`` (in `language`, English by default, or by `pipeline`), combine it with
    ``case`` (explicit answers, age, sex) and assess."""
    engine = engine or default_engine()
    case = case or Case()
    found = understand(text, pipeline=pipeline, kb=engine.kb, language=language)
    reading = found.reading
    assert reading is not None
    merged = Case(
        answers=merge_text_and_answers(found.answers, case.answers),
        age=case.age if case.age is not None else reading.age,
        sex=case.sex if case.sex is not None else Sex(reading.sex) if reading.sex else None,
    )
    result = engine.assess(merged)

    by_finding: dict[str, list[TextMention]] = {}
    for m in reading.mentions:
        by_finding.setdefault(m.finding, []).append(m)
    explicit = {fid for fid, v in case.answers.items() if v is not None}
    findings = []
    for f in result.findings:
        origin = f.origin
        if f.origin == "answer" and f.id not in explicit and f.id in found.answers:
            origin = "text"
        findings.append(f.model_copy(update={"origin": origin, "mentions": by_finding.get(f.id, [])}))
    # Mentions that did not become an answer (ignored ones) are still shown with the reading.
    return result.model_copy(update={"findings": findings, "text": reading})
