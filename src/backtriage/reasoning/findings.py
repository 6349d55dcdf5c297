"""Turn a `Case` into the finding states the reasoning uses.

Answers are checked against the knowledge base here, once, so the rest of the reasoning can
trust every id it sees. Findings derived from age and sex are computed, never taken from the
caller, so "age_50_or_over: true" for a 30-year-old cannot happen. A present finding also answers
"no" to what it excludes by definition (``excludes``), unless that was answered explicitly.
"""

from __future__ import annotations

import difflib

from backtriage.domain.case import Case
from backtriage.errors import InvalidInputError, UnknownFindingError
from backtriage.knowledge.loader import KnowledgeBase
from backtriage.knowledge.schema import Derivation

__all__ = ["FindingStates", "resolve_findings"]

#: finding id -> True (present), False (absent); unknown findings are simply missing.
FindingStates = dict[str, bool]


def resolve_findings(case: Case, kb: KnowledgeBase) -> tuple[FindingStates, set[str]]:
    """Return (known finding states, ids of derived findings among them)."""
    unknown = [fid for fid in case.answers if fid not in kb.findings]
    if unknown:
        hints = {}
        for fid in unknown:
            close = difflib.get_close_matches(fid, kb.findings.keys(), n=1, cutoff=0.75)
            if close:
                hints[fid] = close[0]
        raise UnknownFindingError(unknown, hints)
    derived_answered = [
        fid
        for fid, value in case.answers.items()
        if value is not None and kb.findings[fid].derived_from is not None
    ]
    if derived_answered:
        fid = derived_answered[0]
        field = kb.findings[fid].derived_from.field  # type: ignore[union-attr]
        raise InvalidInputError(f"'{fid}' is worked out from {field}; give '{field}' instead")

    states: FindingStates = {fid: v for fid, v in case.answers.items() if v is not None}
    derived: set[str] = set()
    for fid, present in list(states.items()):
        for excluded in kb.findings[fid].excludes if present else ():
            if excluded not in states:  # an explicit answer wins over the definition
                states[excluded] = False
                derived.add(excluded)
    for finding in kb.findings.values():
        rule = finding.derived_from
        if rule is None:
            continue
        value = _derive(rule, case)
        if value is not None:
            states[finding.id] = value
            derived.add(finding.id)
    return states, derived


def _derive(rule: Derivation, case: Case) -> bool | None:
    if rule.field == "age":
        if case.age is None:
            return None
        low_ok = rule.min is None or case.age >= rule.min
        high_ok = rule.max is None or case.age <= rule.max
        return low_ok and high_ok
    if case.sex is None:
        return None
    return case.sex.value == rule.equals
