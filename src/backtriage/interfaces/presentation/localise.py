"""An assessment or a question in the reader's language, at the moment it is shown.

Reasoning works in ids; the words it puts beside them (a cause's names, a finding's labels, a
rule's name, advice, a question and its options) come from the knowledge base it ran on, in
English. These functions take the same words, by id, from a knowledge base speaking another
language (`languages.knowledge`), and fill in the emergency number the reader is to call. Nothing
else changes: the stored result, its ids, probabilities and reasons stay exactly as reasoned.
"""

from __future__ import annotations

from backtriage.domain.assessment import Assessment, EvidenceItem, FiredRule
from backtriage.domain.interview import Question
from backtriage.interfaces.presentation import words
from backtriage.knowledge.loader import KnowledgeBase

__all__ = ["assessment", "question"]


def _evidence(kb: KnowledgeBase, items: list[EvidenceItem]) -> list[EvidenceItem]:
    out = []
    for e in items:
        f = kb.findings.get(e.finding)
        out.append(
            e if f is None else e.model_copy(update={"label": f.label, "lay_label": f.lay_label or f.label})
        )
    return out


def _rules(kb: KnowledgeBase, fired: list[FiredRule]) -> list[FiredRule]:
    rules = {r.id: r for r in kb.rules}
    return [
        r.model_copy(update={"name": rules[r.id].name, "rationale": rules[r.id].rationale})
        if r.id in rules
        else r
        for r in fired
    ]


def assessment(kb: KnowledgeBase, a: Assessment, emergency_number: str) -> Assessment:
    """`a` in the words of `kb`, telling the reader to call `emergency_number`."""
    findings = kb.findings
    conditions = []
    for c in a.conditions:
        source = kb.conditions.get(c.id)
        names = {"name": source.name, "lay_name": source.lay_name} if source is not None else {}
        conditions.append(
            c.model_copy(
                update={
                    **names,
                    "evidence_for": _evidence(kb, c.evidence_for),
                    "evidence_against": _evidence(kb, c.evidence_against),
                }
            )
        )
    states = [
        s.model_copy(update={"label": f.label, "lay_label": f.lay_label or f.label})
        if (f := findings.get(s.id)) is not None
        else s
        for s in a.findings
    ]
    pending = [
        p.model_copy(update={"question": f.question or f.label}) if (f := findings.get(p.finding)) else p
        for p in a.pending_red_flags
    ]
    advice = [
        item.model_copy(update={"text": kb.advice[item.id].text.format(emergency_number=emergency_number)})
        if item.id in kb.advice
        else item
        for item in a.advice
    ]
    return a.model_copy(
        update={
            "emergency_number": emergency_number,
            "conditions": conditions,
            "findings": states,
            "pending_red_flags": pending,
            "red_flags": _rules(kb, a.red_flags),
            "rules_fired": _rules(kb, a.rules_fired),
            "advice": advice,
        }
    )


def question(kb: KnowledgeBase, q: Question) -> Question:
    """`q` in the words of `kb` (its "None of these" in the catalogue's)."""
    choice = kb.questions.get(q.id)
    if choice is not None:
        texts = {o.id: o.text for o in choice.options}
        options = [o.model_copy(update={"text": texts.get(o.id) or words.option_text(o)}) for o in q.options]
        return q.model_copy(update={"text": choice.text, "help": choice.help, "options": options})
    finding = kb.findings.get(q.finding or q.id)
    if finding is None:
        return q
    return q.model_copy(update={"text": finding.question or finding.label, "help": finding.help})
