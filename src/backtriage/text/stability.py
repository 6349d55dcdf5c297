"""Whether a text says its cauda equina features are old and unchanged (the GIRFT 14-day rule).

Red-flag rules name the long-standing finding in `none`, so reading it as present downgrades an
emergency. A text earns that only when it ties a duration to the feature: the stability words, a
duration longer than the policy's days and the feature all stand in one sentence ("saddle
numbness for 3 months, unchanged"). A duration elsewhere ("back pain for 20 years"), an age
("45 year old woman") or a stability statement about something else never downgrades, and a
feature told with a short duration or a sudden-onset word is new. When unsure, never downgrade.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from backtriage.domain.assessment import TextMention
from backtriage.knowledge.loader import KnowledgeBase
from backtriage.knowledge.schema import SYMPTOM_GROUPS
from backtriage.text.extract import Extracted, TimeCourse, sentence_spans

__all__ = ["Stability", "judge_stability"]

_PRESENT = "present"


@dataclass(frozen=True)
class Stability:
    """The mentions with stability statements re-counted, and the answer for the long-standing
    finding: True (tied to every feature), False (a feature is new), None (not known)."""

    mentions: list[TextMention]
    answer: bool | None


class _Sentences:
    """The sentences of a text, with the durations and onset words that fall in each."""

    def __init__(self, text: str, course: TimeCourse) -> None:
        self._spans = sentence_spans(text)
        self._starts = [start for start, _ in self._spans]
        self._durations = self._bucket(course.durations)
        self._sudden = {self.of(s.start) for s in course.sudden}

    def of(self, position: int) -> int:
        return max(0, bisect_right(self._starts, position) - 1)

    def _bucket(self, items: tuple[Extracted, ...]) -> dict[int, list[float]]:
        buckets: dict[int, list[float]] = {}
        for item in items:
            buckets.setdefault(self.of(item.start), []).append(float(item.value))  # type: ignore[arg-type]
        return buckets

    def long(self, sentence: int, days: int) -> bool:
        return any(d > days for d in self._durations.get(sentence, ()))

    def new(self, sentence: int, days: int) -> bool:
        return sentence in self._sudden or any(d <= days for d in self._durations.get(sentence, ()))


def _downgradable(kb: KnowledgeBase) -> frozenset[str]:
    """Red-flag findings some rule downgrades when the long-standing finding is present."""
    stable = kb.policy.long_standing_finding
    named = {fid for rule in kb.rules if stable in rule.none_of for fid in (*rule.all_of, *rule.any_of)}
    return frozenset(named & kb.red_flag_findings)


def judge_stability(
    mentions: list[TextMention], course: TimeCourse, text: str, kb: KnowledgeBase
) -> Stability:
    stable, days = kb.policy.long_standing_finding, kb.policy.new_within_days
    sentences = _Sentences(text, course)
    downgradable = _downgradable(kb)
    features = [m for m in mentions if m.counted_as == _PRESENT and m.finding in downgradable]
    statements = [m for m in mentions if m.finding == stable and m.counted_as == _PRESENT]
    changing = _changing_after(mentions, statements, kb)
    tied = _tied(mentions, statements, features, sentences, kb)
    answer: bool | None = None
    if changing or any(sentences.new(sentences.of(f.start), days) for f in features):
        answer = False
    elif statements and tied and all(sentences.of(f.start) in tied for f in features):
        answer = True  # with no feature to downgrade, a tied statement is simply believed
    recounted = [_recount(m, stable, days, tied, changing, answer, sentences) for m in mentions]
    return Stability(recounted, answer)


def _changing_after(mentions: list[TextMention], statements: list[TextMention], kb: KnowledgeBase) -> bool:
    """A change told after the last stability statement ("unchanged, but getting worse this
    week") contradicts it; one told before it is what the statement says has not gone on ("my
    flow got weaker 3 weeks ago; it hasn't got any worse since")."""
    last = max((m.start for m in statements), default=-1)
    return any(
        m.counted_as == _PRESENT
        and m.finding in kb.policy.changing_findings
        and not any(s.start <= m.start and m.end <= s.end for s in statements)  # "no progression"
        and (m.start > last or not statements)
        for m in mentions
    )


def _tied(
    mentions: list[TextMention],
    statements: list[TextMention],
    features: list[TextMention],
    sentences: _Sentences,
    kb: KnowledgeBase,
) -> set[int]:
    """Sentences where a stability statement, a long duration and a symptom stand together. A
    statement in a sentence of its own, with no duration or feature ("It hasn't got any worse
    since then."), speaks of the sentence just before it."""
    days = kb.policy.new_within_days
    told = {sentences.of(m.start) for m in mentions if kb.findings[m.finding].group in SYMPTOM_GROUPS}
    with_features = {sentences.of(f.start) for f in features}
    tied = set()
    for m in statements:
        here = sentences.of(m.start)
        if here not in with_features and not sentences.long(here, days) and here > 0:
            here -= 1
        if sentences.long(here, days) and here in told:
            tied.add(here)
    return tied


def _recount(
    mention: TextMention,
    stable: str,
    days: int,
    tied: set[int],
    changing: bool,
    answer: bool | None,
    sentences: _Sentences,
) -> TextMention:
    """A stability statement counts only when the answer it gives stands."""
    if mention.finding != stable or mention.counted_as != _PRESENT or answer is True:
        return mention
    if changing:
        reason = "stability stated, but the text also says the symptoms are new or getting worse"
    elif sentences.of(mention.start) not in tied:
        reason = f"stability stated, but not with a duration of more than {days} days in the same sentence"
    else:
        reason = "stability stated, but not of the red-flag symptom, which is new or told apart"
    return mention.model_copy(update={"counted_as": "ignored", "reason": reason})
