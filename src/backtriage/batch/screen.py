"""One note, or an Arrow batch of notes, screened: red flags documented, action documented,
and whether the action falls short of what the red flags require (`discordant`)."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pyarrow as pa

from backtriage.batch.actions import ACTION_RANK, ActionReader, highest
from backtriage.batch.schema import FULL_SCHEMA, SLIM_SCHEMA
from backtriage.domain.assessment import Assessment, TextMention
from backtriage.domain.case import Case
from backtriage.domain.note import SectionRole
from backtriage.knowledge.loader import KnowledgeBase
from backtriage.knowledge.schema import FindingGroup
from backtriage.reasoning.engine import Engine, default_engine
from backtriage.reasoning.screening import decide_alert
from backtriage.text.counting import answers_of
from backtriage.text.pipeline import TextPipeline, default_pipeline
from backtriage.text.resources import load_text_resources
from backtriage.text.understand import understand

__all__ = ["SLIM_SCHEMA", "NoteScreener", "screen_batch"]


#: Groups of findings that count as red flags when a red-flag rule fired on them.
_RISK_GROUPS = frozenset({"history", "systemic", "sphincter", "neurological"})


class NoteScreener:
    """Loads the knowledge base, the reader and the action vocabulary once."""

    def __init__(
        self, engine: Engine | None = None, pipeline: TextPipeline | None = None, *, skim: bool = True
    ) -> None:
        """`skim=False` reads every sentence of a note (understand.py): the same rows, slower."""
        self.engine = engine or default_engine()
        self._pipeline = pipeline
        self.skim = skim
        self.resources = load_text_resources()
        self.actions = ActionReader(self.resources)

    @property
    def pipeline(self) -> TextPipeline:
        """The given pipeline, or the shipped one asked for afresh for every note, so that it can
        be rebuilt when its vocabulary has grown (a long run reads millions of unseen words)."""
        return self._pipeline or default_pipeline()

    def unreadable(self, note_id: str, error: str) -> dict[str, Any]:
        """The row of a note that could not be read from its file: kept, with the reason."""
        return {
            "id": note_id,
            "kb_version": self.engine.kb.version,
            "text_version": self.resources.version,
            "red_flags": [],
            "alert_rules": [],
            "discordant": None,
            "error": error,
        }

    def screen(self, note_id: str, text: str | None, full: bool = False) -> dict[str, Any]:
        row = self.unreadable(note_id, "")
        if text is None or not text.strip():
            return {**row, "error": "the note has no text"}
        try:
            return {**row, **self._read(text, full)}
        except Exception as exc:  # noqa: BLE001 - a bad note never stops the run; its type is kept
            return {**row, "error": f"could not read this note ({type(exc).__name__})"}

    def _read(self, text: str, full: bool) -> dict[str, Any]:
        kb = self.engine.kb
        pipeline = self.pipeline
        found = understand(text, pipeline, kb, skim=self.skim)
        assessment = self.engine.assess(Case(answers=dict(found.answers)))
        mentions = found.reading.mentions if found.reading else []
        long_standing = kb.policy.long_standing_finding
        current = answers_of(mentions, partial(_describes_now, kb))
        if long_standing in found.answers:  # judged from the whole text, not from one mention
            current[long_standing] = found.answers[long_standing]
        decision = decide_alert(
            kb, self.engine.triage, current, answers_of(mentions, _tells_the_problem), found.layout.kind
        )
        flags = self._red_flags(found.answers, assessment)
        alerting = {f for rule in decision.rules for f in rule.findings}
        evidence = [
            {
                "finding": m.finding,
                "words": m.text,
                "start": m.start,
                "end": m.end,
                "section": m.section,
                "alert": m.finding in alerting and _describes_now(kb, m),
            }
            for m in mentions
            if (m.finding in flags or m.finding in alerting) and m.counted_as == "present"
        ]
        actions = self.actions.read(text, pipeline, found.layout)
        by_kind = self.resources.action_by_note_kind.get(found.layout.kind)
        action = max([highest(actions), by_kind or "none"], key=ACTION_RANK.__getitem__)
        need = decision.required.value if decision.required else "none"
        row = {
            "urgency": assessment.urgency.value,
            "red_flags": flags,
            "evidence": json.dumps(evidence),
            "required": need,
            "alert_rules": [r.id for r in decision.rules],
            "note_kind": found.layout.kind.value,
            "action": action,
            "action_evidence": json.dumps(
                [{"level": a.level, "words": a.words, "start": a.start, "end": a.end} for a in actions]
            ),
            "discordant": ACTION_RANK[action] < ACTION_RANK[need],
            "error": None,
        }
        if full:
            row["assessment"] = assessment.model_dump_json()
        return row

    def _red_flags(self, answers: dict[str, bool], assessment: Assessment) -> list[str]:
        """Red-flag findings the note records, and the risk factors that made a red-flag rule fire
        (injecting drugs with fever and back pain): what an auditor looks for."""
        kb = self.engine.kb
        fired = {f for rule in assessment.red_flags for f in rule.findings}
        return sorted(
            f
            for f, v in answers.items()
            if v and (kb.findings[f].red_flag or (f in fired and kb.findings[f].group in _RISK_GROUPS))
        )


def _describes_now(kb: KnowledgeBase, mention: TextMention) -> bool:
    """Written as the patient's state now; for a finding about history (a past cancer, injecting
    drugs), the past history sections count too."""
    role = mention.section_role
    if role is SectionRole.HISTORY and kb.findings[mention.finding].group is FindingGroup.HISTORY:
        return True
    return role is None or role.describes_patient_now


#: Sections that say what a note is about: its complaint and story, or its conclusion.
_PROBLEM_ROLES = frozenset({SectionRole.PRESENTING, SectionRole.ASSESSMENT})


def _tells_the_problem(mention: TextMention) -> bool:
    return mention.section_role is None or mention.section_role in _PROBLEM_ROLES


_screener: NoteScreener | None = None


def screen_batch(batch: pa.RecordBatch, full: bool = False) -> pa.RecordBatch:
    """Screen a batch with columns `id` and `text`: the unit of work of every engine. The reader
    is loaded once per process, on first use."""
    global _screener
    if _screener is None:
        _screener = NoteScreener()
    ids, texts = batch.column("id").to_pylist(), batch.column("text").to_pylist()
    errors = batch.column("error").to_pylist() if "error" in batch.schema.names else [None] * len(ids)
    rows = [
        _screener.screen(str(i), t, full) if e is None else _screener.unreadable(str(i), e)
        for i, t, e in zip(ids, texts, errors, strict=True)
    ]
    return pa.RecordBatch.from_pylist(rows, schema=FULL_SCHEMA if full else SLIM_SCHEMA)
