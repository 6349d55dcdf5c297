"""Choose the next question: red flags first, then the most informative one.

Order of business at each step:
  1. An emergency ends the interview at once (unless the one question that can lower it under the
     GIRFT 14-day rule is still open).
  2. The red-flag checklist (a multi-choice question with "None of these"), then, one by one,
     whatever of the mandatory red-flag screen (the questions `self_care` depends on) is still
     unanswered, in the knowledge base's order: saddle sensation, bladder, bowel, then the
     screens the presentation brings in.
  3. Broad choice questions ("where is it?", "which of these describe it?", "how did it
     start?"), because one answer fills several findings: first the one that overlaps most with
     what is already known (so the questions follow what an opening text raised), showing only
     the options still unknown.
  4. Any question whose "yes" would raise the urgency through a red-flag rule: first those that
     would complete a rule another answer already half-meets, then those not unlikely (at least
     `min_raise_probability`), most likely first. Then, when the only thing between the case and
     self-care is a harmless pattern not yet shown, what the nearest pattern still needs.
  5. The question with the largest expected information gain about the cause.

It stops when nothing in 2-4 remains and the leading cause is clear enough (probability at least
`stop_probability`) or no question is worth asking (gain below `min_gain` bits), or at
`max_questions`.

The answer model behind 4 and 5 comes from the same likelihood ratios the differential uses:
for a cause with a sensitivity/specificity pair the chance of "yes" is the sensitivity; with only
LR+ it is the finding's background rate times LR+; a cause that does not list the finding gets the
background rate (times its `unexplained_lr`, if any). The background rate is our estimate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from backtriage.domain.assessment import Assessment, UrgencyReasonKind
from backtriage.domain.case import Case
from backtriage.domain.interview import (
    InterviewStep,
    Question,
    QuestionOption,
    QuestionReason,
    StopReason,
    WhyAsked,
)
from backtriage.domain.urgency import UrgencyLevel
from backtriage.knowledge.loader import KnowledgeBase
from backtriage.knowledge.schema import ChoiceQuestion, Evidence, Finding, InterviewSettings
from backtriage.reasoning.engine import Engine
from backtriage.reasoning.findings import resolve_findings

__all__ = ["Interviewer"]


class Interviewer:
    """Stateless: give it what is known and what was asked, it says what to ask next."""

    def __init__(self, engine: Engine, policy: InterviewSettings | None = None) -> None:
        self.engine = engine
        self.kb: KnowledgeBase = engine.kb
        self.policy = policy or self.kb.policy.interview
        self._order = [c.id for c in self.kb.conditions.values()]
        self._p_yes = {f.id: self._answer_model(f) for f in self.kb.asked_findings}
        self._rule_findings = {
            fid
            for r in self.kb.rules
            for fid in r.trigger_findings
            if self.kb.findings[fid].derived_from is None
        }

    # ---- the answer model --------------------------------------------------------------
    def _answer_model(self, finding: Finding) -> list[float]:
        probabilities = []
        for c in self.kb.conditions.values():
            ev = next((e for e in c.evidence if e.finding == finding.id), None)
            if ev is None:
                p = self.policy.background_rate * (finding.unexplained_lr or 1.0)
            else:
                p = _p_yes_given(ev, self.policy.background_rate)
            probabilities.append(min(0.99, max(0.01, p)))
        return probabilities

    # ---- one step ------------------------------------------------------------------------
    def step(self, case: Case, asked: Iterable[str] = ()) -> InterviewStep:
        asked_ids = set(asked)
        assessment = self.engine.assess(case)
        count = len(asked_ids)
        if assessment.urgency is UrgencyLevel.EMERGENCY:
            downgrade = self._downgrade_question(case, asked_ids, assessment)
            if downgrade is not None:
                return InterviewStep(
                    done=False, question=downgrade, assessment=assessment, questions_asked=count
                )
            return InterviewStep(
                done=True,
                assessment=assessment,
                questions_asked=count,
                stop_reason=StopReason.EMERGENCY,
            )
        if count >= self.policy.max_questions:
            return InterviewStep(
                done=True,
                assessment=assessment,
                questions_asked=count,
                stop_reason=StopReason.QUESTION_LIMIT,
            )
        question = self._next(case, asked_ids, assessment)
        if question is None:
            return InterviewStep(
                done=True,
                assessment=assessment,
                questions_asked=count,
                stop_reason=StopReason.SETTLED,
            )
        return InterviewStep(done=False, question=question, assessment=assessment, questions_asked=count)

    def _downgrade_question(self, case: Case, asked: set[str], a: Assessment) -> Question | None:
        """The one question that can still move an emergency to 'urgent' (GIRFT: a single cauda
        equina feature present for more than 14 days and unchanged). Asked only when every
        emergency rule that fired could be lifted by it; otherwise the emergency stands."""
        emergencies = [r for r in a.rules_fired if r.urgency is UrgencyLevel.EMERGENCY]
        rules = {r.id: r for r in self.kb.rules}
        candidates: set[str] | None = None
        for fired in emergencies:
            unlocks = {f for f in rules[fired.id].none_of if case.answers.get(f) is None and f not in asked}
            candidates = unlocks if candidates is None else candidates & unlocks
        if not candidates:
            return None
        fid = sorted(candidates)[0]
        return self._yes_no(
            self.kb.findings[fid],
            bears_on=[r.id for r in emergencies],
            why=QuestionReason(kind=WhyAsked.DECIDES_TIMING),
        )

    def _next(self, case: Case, asked: set[str], a: Assessment) -> Question | None:
        known = {fid for fid, v in case.answers.items() if v is not None}
        unknown = [
            f for f in self.kb.asked_findings if f.id not in known and f.id not in asked and not f.volunteered
        ]
        posterior = {c.id: c.probability for c in a.conditions}
        weights = [posterior[cid] for cid in self._order]
        return (
            self._red_flag_question(asked, known, a)  # 2
            or self._broad_questions(asked, case.answers)  # 3
            or self._raising_question(case, unknown, weights, a)  # 4
            or self._benign_question(case, asked, a)  # 4b
            or self._informative_question(unknown, weights, a)  # 5
        )

    def _red_flag_question(self, asked: set[str], known: set[str], a: Assessment) -> Question | None:
        """The red-flag checklists (the emergency screen first), then the mandatory screen."""
        for q in self.kb.questions.values():
            targets = {o.finding for o in q.options if o.finding}
            if q.none_of_these and q.id not in asked and targets - known:
                return self._choice(
                    q, why=QuestionReason(kind=WhyAsked.RED_FLAG_CHECKLIST), red_flag=True, known=known
                )
        for pending in a.pending_red_flags:
            if pending.finding not in asked:
                return self._yes_no(
                    self.kb.findings[pending.finding],
                    why=QuestionReason(kind=WhyAsked.SAFETY_SCREEN, screen=pending.screen),
                )
        return None

    def _raising_question(
        self, case: Case, unknown: list[Finding], weights: list[float], a: Assessment
    ) -> Question | None:
        """A question whose "yes" would raise the urgency through a rule: one that completes a
        rule already half-met however unlikely, else the likeliest not-unlikely one."""
        raising = []
        for f in unknown:
            if f.id not in self._rule_findings:
                continue
            p_yes = _dot(weights, self._p_yes[f.id])
            fired = self.engine.triage.fire_rules(self._states(case, {**case.answers, f.id: True}))
            raised = [r for r in fired if r.urgency > a.urgency and f.id in r.findings]
            completes = any(len(r.findings) > 1 for r in raised)
            if raised and (completes or p_yes >= self.policy.min_raise_probability):
                raising.append((completes, p_yes, f, raised))
        if not raising:
            return None
        _, _, f, raised = max(raising, key=lambda item: (item[0], item[1], item[2].id))
        rule = max(raised, key=lambda r: r.urgency.rank)
        return self._yes_no(
            f,
            red_flag=f.red_flag,
            bears_on=[r.id for r in raised],
            why=QuestionReason(kind=WhyAsked.WOULD_RAISE, rule=rule.id),
        )

    def _informative_question(
        self, unknown: list[Finding], weights: list[float], a: Assessment
    ) -> Question | None:
        """The question with the largest expected information gain, unless the picture is clear."""
        entropy = _entropy(weights)
        best: tuple[float, Finding] | None = None
        for f in unknown:
            gain = _gain(weights, self._p_yes[f.id], entropy)
            if best is None or gain > best[0] + 1e-12:
                best = (gain, f)
        if best is None or best[0] < self.policy.min_gain:
            return None
        if a.conditions[0].probability >= self.policy.stop_probability and best[0] < 2 * self.policy.min_gain:
            return None
        f = best[1]
        shifted = self._most_affected(weights, self._p_yes[f.id])
        return self._yes_no(
            f, bears_on=shifted, why=QuestionReason(kind=WhyAsked.TELLS_APART, conditions=shifted)
        )

    def _benign_question(self, case: Case, asked: set[str], a: Assessment) -> Question | None:
        """When only the missing harmless pattern stands between this case and self-care, ask
        what the nearest pattern still needs (the seed's discriminators among it)."""
        blocking = [r for r in a.urgency_reasons if r.urgency is a.urgency]
        if not blocking or any(r.kind is not UrgencyReasonKind.NO_BENIGN_PATTERN for r in blocking):
            return None
        for fid in self.engine.triage.benign_missing(self._states(case, case.answers)):
            if fid not in asked:
                return self._yes_no(self.kb.findings[fid], why=QuestionReason(kind=WhyAsked.HARMLESS_PATTERN))
        return None

    # ---- helpers -------------------------------------------------------------------------
    def _states(self, case: Case, answers: dict[str, bool | None]) -> dict[str, bool]:
        states, _ = resolve_findings(case.model_copy(update={"answers": answers}), self.kb)
        return states

    def _most_affected(self, weights: list[float], p_yes: list[float]) -> list[str]:
        py = _dot(weights, p_yes)
        shifts = []
        for cid, w, p in zip(self._order, weights, p_yes, strict=True):
            after_yes = w * p / py if py else w
            after_no = w * (1 - p) / (1 - py) if py < 1 else w
            shifts.append((abs(after_yes - after_no), cid))
        shifts.sort(reverse=True)
        return [cid for _, cid in shifts[:2]]

    def _yes_no(
        self, f: Finding, why: QuestionReason, red_flag: bool | None = None, bears_on: list[str] | None = None
    ) -> Question:
        if bears_on is None:
            bears_on = sorted(
                {cid for r in self.kb.rules if f.id in r.trigger_findings for cid in r.suggests}
            )
        return Question(
            id=f.id,
            kind="yes_no",
            text=f.question or f.label,
            help=f.help,
            finding=f.id,
            red_flag=f.red_flag if red_flag is None else red_flag,
            why=why,
            bears_on=bears_on,
        )

    def _broad_questions(self, asked: set[str], answers: Mapping[str, bool | None]) -> Question | None:
        """The broad question that follows what is already known (an opening text about walking
        leads to "which of these describe it?"), showing only what is still unknown. A single
        choice is one answer, so it is skipped once any of its options is known to hold."""
        known = {fid for fid, v in answers.items() if v is not None}
        candidates = []
        for order, q in enumerate(self.kb.questions.values()):
            targets = {o.finding for o in q.options if o.finding}
            if q.id in asked or q.none_of_these or not targets - known:
                continue
            if q.kind == "single_choice" and any(
                o.finding and answers.get(o.finding) is o.value for o in q.options
            ):
                continue
            candidates.append((-len(targets & known), order, q))
        if not candidates:
            return None
        q = min(candidates, key=lambda c: (c[0], c[1]))[2]
        return self._choice(q, why=QuestionReason(kind=WhyAsked.COVERS_SEVERAL), known=known)

    def _choice(
        self, q: ChoiceQuestion, why: QuestionReason, red_flag: bool = False, known: set[str] | None = None
    ) -> Question:
        """A choice question, without the options whose answer is already known."""
        known = known or set()
        options = [
            QuestionOption(id=o.id, text=o.text, finding=o.finding, value=o.value)
            for o in q.options
            if q.kind == "single_choice" or o.finding not in known
        ]
        if q.none_of_these:
            options.append(QuestionOption(id="none", text="None of these", finding=None))
        bears_on = (
            sorted(
                {
                    cid
                    for o in q.options
                    for r in self.kb.rules
                    if o.finding in r.trigger_findings
                    for cid in r.suggests
                }
            )
            if red_flag
            else []
        )
        return Question(
            id=q.id,
            kind=q.kind,
            text=q.text,
            help=q.help,
            options=options,
            none_of_these=q.none_of_these,
            unchosen_means_no=q.unchosen_means_no,
            red_flag=red_flag,
            why=why,
            bears_on=bears_on,
        )


def _p_yes_given(ev: Evidence, background_rate: float) -> float:
    if ev.sensitivity is not None:
        return ev.sensitivity
    lr_pos, lr_neg = ev.ratio_present, ev.ratio_absent
    if ev.lr_present is not None and ev.lr_absent is not None and abs(lr_pos - lr_neg) > 1e-9:
        return lr_pos * (1 - lr_neg) / (lr_pos - lr_neg)
    return background_rate * lr_pos


def _dot(a: list[float], b: list[float]) -> float:
    return math.fsum(x * y for x, y in zip(a, b, strict=True))


def _entropy(weights: Iterable[float]) -> float:
    return -math.fsum(w * math.log2(w) for w in weights if w > 0)


def _gain(weights: list[float], p_yes: list[float], entropy: float) -> float:
    py = _dot(weights, p_yes)
    if py <= 0 or py >= 1:
        return 0.0
    yes = [w * p / py for w, p in zip(weights, p_yes, strict=True)]
    no = [w * (1 - p) / (1 - py) for w, p in zip(weights, p_yes, strict=True)]
    return entropy - py * _entropy(yes) - (1 - py) * _entropy(no)
