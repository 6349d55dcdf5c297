"""Safety invariants, proved over generated cases rather than a handful of examples.

1. Making a red-flag finding present never lowers the urgency.
2. `self_care` only when every applicable mandatory screen question is answered "no";
   otherwise the pending questions are listed.
3. Emergencies come from red-flag rules only.
4. Probabilities are bounded, sum to one, and are sorted.
5. Results are deterministic and do not depend on answer order.
6. `self_care` only on positive evidence: a harmless pattern is shown in full.
7. A cause whose defining findings were all denied never leads the differential.
8. A scope other than 'back' is always explained, and 'not_back' only comes from rules that
   point outside the back.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtriage.domain.case import Case, Sex
from backtriage.domain.urgency import UrgencyLevel
from backtriage.reasoning.engine import default_engine
from backtriage.reasoning.findings import resolve_findings

ENGINE = default_engine()
KB = ENGINE.kb
ASKED = sorted(f.id for f in KB.asked_findings)
RED_FLAGS = sorted(KB.red_flag_findings)
ALWAYS_SCREENED = sorted({q for s in KB.screens if not s.applies_if_any for q in s.questions})

answer = st.sampled_from([True, False, None])
# Bias towards the findings that matter for safety so that interesting combinations are common.
keys = st.one_of(st.sampled_from(RED_FLAGS), st.sampled_from(ALWAYS_SCREENED), st.sampled_from(ASKED))
cases = st.builds(
    Case,
    answers=st.dictionaries(keys, answer, max_size=25),
    age=st.one_of(st.none(), st.integers(min_value=0, max_value=120)),
    sex=st.one_of(st.none(), st.sampled_from(list(Sex))),
)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(case=cases, red_flag=st.sampled_from(RED_FLAGS))
def test_adding_a_red_flag_never_lowers_urgency(case: Case, red_flag: str) -> None:
    before = ENGINE.assess(case).urgency
    flagged = case.model_copy(update={"answers": {**case.answers, red_flag: True}})
    after = ENGINE.assess(flagged)
    assert after.urgency >= before
    assert after.urgency >= UrgencyLevel.URGENT
    assert after.red_flags, "a present red-flag finding must be reported as a red flag"


@SETTINGS
@given(case=cases, red_flags=st.sets(st.sampled_from(RED_FLAGS), min_size=1, max_size=4))
def test_urgency_is_monotone_in_sets_of_red_flags(case: Case, red_flags: set[str]) -> None:
    levels = []
    answers = dict(case.answers)
    levels.append(ENGINE.assess(case).urgency)
    for flag in sorted(red_flags):
        answers[flag] = True
        levels.append(ENGINE.assess(case.model_copy(update={"answers": dict(answers)})).urgency)
    assert levels == sorted(levels)


@SETTINGS
@given(case=cases)
def test_self_care_requires_a_complete_screen(case: Case) -> None:
    result = ENGINE.assess(case)
    if result.urgency is UrgencyLevel.SELF_CARE:
        assert result.pending_red_flags == []
        for fid in ALWAYS_SCREENED:
            assert case.answers.get(fid) is False
        for screen in KB.screens:
            if any(case.answers.get(f) is True for f in screen.applies_if_any):
                assert all(case.answers.get(q) is False for q in screen.questions)
    if any(case.answers.get(f) is None for f in ALWAYS_SCREENED):
        assert result.urgency is not UrgencyLevel.SELF_CARE
        pending = {p.finding for p in result.pending_red_flags}
        assert {f for f in ALWAYS_SCREENED if f not in case.answers or case.answers[f] is None} <= pending


@SETTINGS
@given(case=cases)
def test_emergencies_come_from_rules(case: Case) -> None:
    result = ENGINE.assess(case)
    if result.urgency is UrgencyLevel.EMERGENCY:
        assert any(r.urgency is UrgencyLevel.EMERGENCY for r in result.rules_fired)
    assert result.urgency == max([r.urgency for r in result.urgency_reasons])


@SETTINGS
@given(case=cases)
def test_probabilities_are_bounded_sum_to_one_and_sorted(case: Case) -> None:
    probs = [c.probability for c in ENGINE.assess(case).conditions]
    assert len(probs) == len(KB.conditions)
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert abs(sum(probs) - 1.0) < 1e-9
    assert probs == sorted(probs, reverse=True)


@settings(max_examples=150, deadline=None)
@given(case=cases, seed=st.randoms(use_true_random=False))
def test_results_are_deterministic_and_order_free(case: Case, seed) -> None:  # type: ignore[no-untyped-def]
    first = ENGINE.assess(case).model_dump_json()
    items = list(case.answers.items())
    seed.shuffle(items)
    shuffled = case.model_copy(update={"answers": dict(items)})
    assert ENGINE.assess(shuffled).model_dump_json() == first
    assert json.loads(first)["kb_hash"] == KB.content_hash


@st.composite
def nearly_benign(draw: st.DrawFn) -> Case:
    """Cases built around a harmless pattern, with pieces randomly missing, flipped or added."""
    pattern = draw(st.sampled_from(KB.benign_patterns))
    answers: dict[str, bool | None] = dict.fromkeys(ALWAYS_SCREENED, False)
    answers.update(dict.fromkeys(pattern.all_of, True))
    answers.update(dict.fromkeys(pattern.denied, False))
    answers.update({f: draw(st.booleans()) for f in pattern.asked})
    for fid in draw(
        st.lists(st.sampled_from([*pattern.all_of, *pattern.denied, *pattern.asked]), max_size=2)
    ):
        answers[fid] = draw(answer)
    answers.update(draw(st.dictionaries(st.sampled_from(ASKED), answer, max_size=6)))
    return Case(answers=answers, age=draw(st.one_of(st.none(), st.integers(18, 90))))


def _pattern_holds(case: Case) -> bool:
    """A harmless pattern holds on what is known: the answers, plus what a present finding rules
    out by definition (``excludes``)."""
    states, _ = resolve_findings(case, KB)
    return any(
        all(states.get(f) is True for f in bp.all_of)
        and all(states.get(f) is False for f in bp.denied)
        and all(f in states for f in bp.asked)
        for bp in KB.benign_patterns
    )


@SETTINGS
@given(case=st.one_of(nearly_benign(), cases), data=st.data())
def test_self_care_only_on_a_shown_harmless_pattern(case: Case, data: st.DataObject) -> None:
    result = ENGINE.assess(case)
    if result.urgency is not UrgencyLevel.SELF_CARE:
        return
    assert _pattern_holds(case)
    assert not any(case.answers.get(f) is True for f in RED_FLAGS)
    # Take away one piece of the evidence: unless another pattern still holds, no self-care.
    pieces = [f for bp in KB.benign_patterns for f in (*bp.all_of, *bp.denied, *bp.asked)]
    fid = data.draw(st.sampled_from(pieces))
    weaker = case.model_copy(update={"answers": {**case.answers, fid: None}})
    if not _pattern_holds(weaker):
        assert ENGINE.assess(weaker).urgency is not UrgencyLevel.SELF_CARE


@SETTINGS
@given(case=st.one_of(nearly_benign(), cases))
def test_a_cause_whose_defining_findings_were_denied_never_leads(case: Case) -> None:
    result = ENGINE.assess(case)
    leader = KB.conditions[result.conditions[0].id]
    denied = bool(leader.defining) and all(case.answers.get(f) is False for f in leader.defining)
    if denied:  # allowed only when every cause is ruled out the same way
        assert all(c.defining_denied for c in result.conditions if KB.conditions[c.id].defining)
        assert all(KB.conditions[c.id].defining for c in result.conditions)


@SETTINGS
@given(case=cases)
def test_scope_is_explained_and_comes_from_rules(case: Case) -> None:
    result = ENGINE.assess(case)
    if result.scope.value != "back":
        assert result.outside_back, "a scope other than the back names what to rule out"
        assert all(KB.conditions[c].scope == "not_back" for c in result.outside_back)
    if result.scope.value == "not_back":
        fired = {cid for r in result.rules_fired for cid in r.suggests}
        assert any(KB.conditions[cid].scope == "not_back" for cid in fired)
        assert result.urgency >= UrgencyLevel.URGENT


@given(case=cases)
def test_no_home_treatment_advice_above_the_policy_urgency(case: Case) -> None:
    """Someone sent to a doctor today (or to hospital) is not also told which painkiller to take."""
    result = ENGINE.assess(case)
    if result.urgency > KB.policy.self_care_advice_up_to:
        assert not [item.id for item in result.advice if item.kind == "self_care"]
