"""Assessments and interviews with an audit trail: what the API and the CLI both call.

Reasoning stays pure (`backtriage.reasoning`); this module adds the state an interview needs
between questions, and writes every interview, answer and assessment to the audit store.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from backtriage.domain.assessment import Assessment
from backtriage.domain.case import Answer, Case
from backtriage.domain.interview import InterviewStep, Question, StopReason
from backtriage.errors import ConflictError, NotFoundError
from backtriage.reasoning.engine import Engine, default_engine
from backtriage.reasoning.interview import Interviewer
from backtriage.storage.models import InterviewEvent, InterviewRecord
from backtriage.storage.store import AuditStore, now, unknown_interview

__all__ = ["InterviewView", "TriageService"]


class InterviewView(BaseModel):
    """An interview as the API and CLI show it."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: str
    done: bool
    question: Question | None = None
    assessment: Assessment | None = None
    questions_asked: int
    asked: list[str] = Field(default_factory=list, description="Ids of the questions answered, in order.")
    answers: dict[str, Answer]
    stop_reason: StopReason | None = None
    age: int | None = None
    sex: str | None = None
    started_at: datetime | None = None
    text: str | None = Field(
        default=None, exclude=True, description="What the person wrote, when kept (never sent back)."
    )


#: The owner recorded for interviews made on the web page (API interviews carry a key id, or
#: none in open local mode), so neither can reach the other's interviews.
WEB_OWNER = "web-page"

#: The event that undoes the answer before it (`TriageService.back`).
_BACK = "back:"


class TriageService:
    def __init__(self, store: AuditStore, engine: Engine | None = None, store_text: bool = True) -> None:
        self.store = store
        self.engine = engine or default_engine()
        self.interviewer = Interviewer(self.engine)
        self.store_text = store_text  # False: what people write is read, never stored

    # ---- one-shot assessment ---------------------------------------------------------------
    def assess(self, case: Case, text: str | None = None, api_key_id: str | None = None) -> Assessment:
        if text is not None:
            from backtriage.text import assess_text

            result = assess_text(text, case, engine=self.engine)
        else:
            result = self.engine.assess(case)
        self.record(case, result, text, api_key_id)
        return result

    def record(
        self, case: Case, result: Assessment, text: str | None = None, api_key_id: str | None = None
    ) -> None:
        """Keep an assessment made elsewhere (an SDC questionnaire's end) in the audit store."""
        inputs = {"text": text if self.store_text else None, **case.model_dump(mode="json")}
        stored = result.model_dump(mode="json", exclude=None if self.store_text else {"text"})
        self.store.add_assessment(inputs, stored, result.urgency.value, self.engine.kb.version, api_key_id)

    # ---- interviews --------------------------------------------------------------------------
    def start_interview(
        self, case: Case, text: str | None = None, api_key_id: str | None = None
    ) -> InterviewView:
        answers: dict[str, Answer] = {}
        age, sex = case.age, case.sex
        if text is not None:
            from backtriage.text import merge_text_and_answers, understand

            found = understand(text, kb=self.engine.kb)
            answers = merge_text_and_answers(found.answers, case.answers)
            if found.reading is not None:
                age = age if age is not None else found.reading.age
                sex = sex if sex is not None else found.reading.sex  # type: ignore[assignment]
        else:
            answers = dict(case.answers)
        full = Case(answers=answers, age=age, sex=sex)
        step = self.interviewer.step(full, [])
        interview_id = str(uuid.uuid4())
        with self.store.transaction() as s:
            record = InterviewRecord(
                id=interview_id,
                created_at=now(),
                updated_at=now(),
                status="active",
                kb_version=self.engine.kb.version,
                text=text if self.store_text else None,
                age=full.age,
                sex=full.sex.value if full.sex else None,
                answers=dict(answers),
                asked=[],
                current_question=None,
                result=None,
                api_key_id=api_key_id,
            )
            self._apply(record, step, text)
            s.add(record)
            s.add(
                InterviewEvent(
                    interview_id=interview_id, created_at=now(), question_id=None, answers=dict(answers)
                )
            )
        return self._view(record, step)

    def answer(
        self, interview_id: str, answers: dict[str, Answer], api_key_id: str | None = None
    ) -> InterviewView:
        """Record answers to the current question and move on; 409 once the interview is done."""
        with self.store.transaction() as s:
            record = self._owned(s, interview_id, api_key_id)
            if record.status == "done":
                raise ConflictError(f"interview '{interview_id}' is finished; start a new one")
            question = record.current_question or {}
            if question:
                answers = Question.model_validate(question).complete(answers)
            merged = dict(record.answers)
            merged.update(answers)
            case = Case.from_mapping({"answers": merged, "age": record.age, "sex": record.sex})
            asked = list(record.asked)
            if question.get("id") and question["id"] not in asked:
                asked.append(question["id"])
            # Assessing inside step() refuses unknown findings before anything is written.
            step = self.interviewer.step(case, asked)
            record.answers = merged
            record.asked = asked
            record.updated_at = now()
            self._apply(record, step, record.text)
            s.add(
                InterviewEvent(
                    interview_id=interview_id,
                    created_at=now(),
                    question_id=question.get("id"),
                    answers=dict(answers),
                )
            )
        return self._view(record, step)

    def back(self, interview_id: str, api_key_id: str | None = None, to: str | None = None) -> InterviewView:
        """Undo the last answer (or every answer back to question `to`, to change it): the
        question is asked again. Recorded as an event, so the audit trail keeps both."""
        with self.store.transaction() as s:
            record = self._owned(s, interview_id, api_key_id)
            kept = _answer_events(record.events)
            if not kept:
                raise ConflictError("there is no answer to go back to")
            if to is not None and to not in {e.question_id for e in kept}:
                raise ConflictError(f"question '{to}' has not been answered")
            undone = 0
            while kept:
                undone += 1
                if kept.pop().question_id == to or to is None:
                    break
            s.add(
                InterviewEvent(
                    interview_id=interview_id, created_at=now(), question_id=_BACK + str(undone), answers={}
                )
            )
            opening = record.events[0].answers if record.events else {}
            answers = dict(opening)
            for event in kept:
                answers.update(event.answers)
            record.answers = answers
            record.asked = list(dict.fromkeys(e.question_id for e in kept if e.question_id))
            record.status, record.result, record.updated_at = "active", None, now()
            case = Case.from_mapping({"answers": answers, "age": record.age, "sex": record.sex})
            step = self.interviewer.step(case, record.asked)
            self._apply(record, step, record.text)
        return self._view(record, step)

    def delete_interview(self, interview_id: str, api_key_id: str | None = None) -> None:
        """Forget an interview and its events, at the person's request."""
        with self.store.transaction() as s:
            s.delete(self._owned(s, interview_id, api_key_id))
        self.store.erase_deleted()

    def get_interview(self, interview_id: str, api_key_id: str | None = None) -> InterviewView:
        with self.store.reading() as s:
            record = self._owned(s, interview_id, api_key_id)
            if record.status == "done":
                return self._view(record, None)
            case = Case.from_mapping({"answers": record.answers, "age": record.age, "sex": record.sex})
            step = self.interviewer.step(case, record.asked)
        return self._view(record, step)

    # ---- helpers -------------------------------------------------------------------------
    def _owned(self, s: Session, interview_id: str, api_key_id: str | None) -> InterviewRecord:
        """The interview, if the caller's key made it: another key gets the same 404 as an unknown
        id, so ids cannot be probed. Open local mode (no key) sees interviews made without one."""
        record = self.store.interview_for_update(s, interview_id)
        if record.api_key_id != api_key_id:
            raise NotFoundError(unknown_interview(interview_id))
        return record

    def _apply(self, record: InterviewRecord, step: InterviewStep, text: str | None) -> None:
        if step.done:
            final = step.assessment
            if text is not None:
                from backtriage.text import assess_text

                final = assess_text(
                    text,
                    Case.from_mapping({"answers": record.answers, "age": record.age, "sex": record.sex}),
                    engine=self.engine,
                )
            record.status = "done"
            record.current_question = None
            record.result = final.model_dump(mode="json")
        else:
            assert step.question is not None
            record.current_question = step.question.model_dump(mode="json")

    def _view(self, record: InterviewRecord, step: InterviewStep | None) -> InterviewView:
        done = record.status == "done"
        assessment = Assessment.model_validate(record.result) if done and record.result else None
        return InterviewView(
            id=record.id,
            status=record.status,
            done=done,
            question=None if done or step is None else step.question,
            assessment=assessment,
            questions_asked=len(record.asked),
            asked=list(record.asked),
            answers=dict(record.answers),
            stop_reason=step.stop_reason if done and step is not None else None,
            age=record.age,
            sex=record.sex,
            started_at=record.created_at,
            text=record.text,
        )


def _answer_events(events: list[InterviewEvent]) -> list[InterviewEvent]:
    """The answers that still stand: each back event undoes the given number of answers before
    it. The opening event (the first) is not an answer."""
    kept: list[InterviewEvent] = []
    for event in events[1:]:
        if event.question_id and event.question_id.startswith(_BACK):
            del kept[len(kept) - int(event.question_id[len(_BACK) :]) :]
        else:
            kept.append(event)
    return kept
