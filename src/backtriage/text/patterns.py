"""Many regular expressions over one text, each tried only where it could match.

A pattern is read (with `re`'s own parser) for what every match of it must hold: runs of
literals, small character classes and alternatives spelt out ("t[0-9]", "c[5-8]"), each
alternative keeping its own requirements. A `PatternSet` finds all those strings in one pass (an
Aho-Corasick automaton, and a plain test for the one- and two-letter ones) and runs a pattern over
a region of the text only when the region holds what the pattern needs. The requirements come from
the compiled pattern itself, so they cannot disagree with it.
"""

from __future__ import annotations

import bisect
import re

# The parser behind `re` (Python 3.11+); typeshed has no stubs for these private modules.
import re._parser as sre_parse  # type: ignore[import-not-found]
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from re._constants import (  # type: ignore[import-not-found]
    ASSERT,
    ASSERT_NOT,
    BRANCH,
    CATEGORY,
    CATEGORY_DIGIT,
    IN,
    LITERAL,
    MAX_REPEAT,
    MIN_REPEAT,
    RANGE,
    SUBPATTERN,
)
from typing import Any

import ahocorasick_rs

from backtriage.cache import cached_json

__all__ = [
    "PatternSet",
    "Requirement",
    "lookbehind",
    "requirements",
    "has_word_list",
    "without_lookahead",
    "zipf",
]


class PatternSet:
    """Patterns, each filed under the strings it cannot match without; each compiled when first
    needed (a short text needs few of them, and compiling them all is most of a start-up)."""

    def __init__(self, patterns: Sequence[str], language: str = "en") -> None:
        """`language`: the text's, whose commonest two-letter words are taken to be everywhere."""
        self.patterns = list(patterns)
        self._regexes: list[re.Pattern[str] | None] = [None] * len(self.patterns)
        analysis = cached_json(
            f"patterns-v{_ANALYSIS_VERSION}",
            "\n".join(self.patterns),
            lambda: _analyse(self.patterns, language),
            language=language,
        )
        if not isinstance(analysis, dict) or set(analysis) != _ANALYSIS_KEYS:
            analysis = _analyse(self.patterns, language)  # an entry not in this version's shape
        needs = [Requirement.from_json(n) if n is not None else None for n in analysis["needs"]]
        self._needs = needs
        #: Strings taken to be in every region, not looked for: single characters and the
        #: commonest two-letter words ("in", "of", "10") are in nearly every sentence anyway.
        self.everywhere = frozenset(analysis["everywhere"])
        strings = {w for need in needs if need for w in need.strings_used()}
        self.searched = sorted(strings - self.everywhere)
        self._automaton = ahocorasick_rs.AhoCorasick(self.searched) if self.searched else None
        self._tests: dict[int, Callable[[set[str]], bool] | None] = {}
        self.by_string: dict[str, list[int]] = {}
        anywhere: set[int] = set()  # patterns that need nothing, or only what is everywhere
        for i, keys in enumerate(map(frozenset, analysis["keys"])):
            if not keys or not keys.isdisjoint(self.everywhere):
                anywhere.add(i)
            for w in keys - self.everywhere:
                self.by_string.setdefault(w, []).append(i)
        self.anywhere = frozenset(anywhere)
        #: The most characters any pattern looks back before where its match starts.
        self.lookbehind: int = analysis["lookbehind"]

    def regex(self, index: int) -> re.Pattern[str]:
        compiled = self._regexes[index]
        if compiled is None:
            compiled = self._regexes[index] = re.compile(self.patterns[index])
        return compiled

    def found(self, text: str, regions: Sequence[tuple[int, int]]) -> list[set[str]]:
        """The strings the patterns need that are inside each region (regions sorted and
        apart), less those taken to be everywhere."""
        within: list[set[str]] = [set() for _ in regions]
        if self._automaton is None or not regions:
            return within
        starts = [a for a, _ in regions]
        for i, a, b in self._automaton.find_matches_as_indexes(text, overlapping=True):
            n = bisect.bisect_right(starts, a) - 1
            if n >= 0 and b <= regions[n][1]:
                within[n].add(self.searched[i])
        return within

    def may_match(self, index: int, present: set[str]) -> bool:
        if index not in self._tests:
            need = self._needs[index]
            self._tests[index] = need.test(self.everywhere) if need else None
        test = self._tests[index]
        return test is None or test(present)

    def candidates(self, present: set[str]) -> frozenset[int]:
        """The patterns filed under a string present, and those that may match anywhere."""
        return self.anywhere.union(*(self.by_string.get(w, ()) for w in present))

    def regions(
        self, text: str, regions: Sequence[tuple[int, int]]
    ) -> Iterator[tuple[int, list[tuple[int, int]]]]:
        """(pattern, the regions it may match in), in pattern order, for the patterns that may
        match somewhere."""
        per_pattern: dict[int, list[tuple[int, int]]] = {}
        for region, present in zip(regions, self.found(text, regions), strict=True):
            for i in self.candidates(present):
                if self.may_match(i, present):
                    per_pattern.setdefault(i, []).append(region)
        for i in sorted(per_pattern):
            yield i, per_pattern[i]


#: Bumped whenever what `_analyse` returns changes shape or meaning.
_ANALYSIS_VERSION = 1
_ANALYSIS_KEYS = {"needs", "everywhere", "keys", "lookbehind"}


def _analyse(patterns: list[str], language: str) -> dict[str, Any]:
    """What every pattern needs, which of those strings are everywhere, and the widest
    look-behind: plain data, kept on disk between runs (cache.py)."""
    token = _LANGUAGE.set(language)
    try:
        needs = [requirements(p) for p in patterns]
        strings = {w for need in needs if need for w in need.strings_used()}
        return {
            "needs": [need.to_json() if need else None for need in needs],
            "everywhere": sorted(w for w in strings if _everywhere(w, language)),
            "keys": [sorted(need.keys()) if need else [] for need in needs],
            "lookbehind": max((lookbehind(p) for p in patterns), default=0),
        }
    finally:
        _LANGUAGE.reset(token)


#: The language of the texts patterns are analysed for (`_analyse` sets it): its commonest
#: two-letter words are taken to be everywhere, so never chosen to index a pattern by.
_LANGUAGE: ContextVar[str] = ContextVar("backtriage_pattern_language", default="en")


@lru_cache(maxsize=4096)
def _everywhere(string: str, language: str) -> bool:
    return len(string) == 1 or (len(string) == 2 and zipf(string, language) >= _COMMON_ZIPF)


def zipf(word: str, language: str) -> float:
    """wordfreq's frequency of a word in a language (Zipf scale); 0 in a language it has no list of."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, language)) if has_word_list(language) else 0.0


@lru_cache(maxsize=16)
def has_word_list(language: str, wordlist: str = "best") -> bool:
    """Whether wordfreq has a list of the language's words (none for "xx")."""
    from wordfreq import available_languages

    return language in available_languages(wordlist=wordlist)


#: A two-letter string this frequent in the language (Zipf scale) is taken to be in every sentence.
_COMMON_ZIPF = 5.0


@dataclass(frozen=True)
class Requirement:
    """What every match of a pattern holds: one of `strings`, or all of `parts`, or any of them."""

    strings: frozenset[str] = frozenset()
    parts: tuple[Requirement, ...] = ()
    any_part: bool = False

    def test(self, everywhere: frozenset[str] = frozenset()) -> Callable[[set[str]], bool]:
        """Whether the strings present in a text allow a match: one compiled expression, as it
        is asked of every sentence; the strings in `everywhere` are taken to be present."""
        constants: list[frozenset[str]] = []

        def expression(req: Requirement) -> str:
            if req.strings and not req.strings.isdisjoint(everywhere):
                return "True"
            if req.strings:
                constants.append(req.strings)
                return f"not c{len(constants) - 1}.isdisjoint(p)"
            joiner = " or " if req.any_part else " and "
            return "(" + joiner.join(expression(part) for part in req.parts) + ")"

        source = f"lambda p: {expression(self)}"
        names = {f"c{i}": c for i, c in enumerate(constants)}
        test: Callable[[set[str]], bool] = eval(compile(source, "<requirement>", "eval"), names)
        return test  # noqa: S307 - built from sets only

    def to_json(self) -> Any:
        if self.strings:
            return sorted(self.strings)
        return {"any" if self.any_part else "all": [part.to_json() for part in self.parts]}

    @classmethod
    def from_json(cls, data: Any) -> Requirement:
        if isinstance(data, list):
            return cls(strings=frozenset(data))
        ((kind, parts),) = data.items()
        return cls(parts=tuple(cls.from_json(p) for p in parts), any_part=kind == "any")

    def strings_used(self) -> frozenset[str]:
        return self.strings.union(*(part.strings_used() for part in self.parts))

    def keys(self) -> frozenset[str]:
        """Strings of which every match holds one (an index for the requirement)."""
        if self.strings:
            return self.strings
        if self.any_part:
            return frozenset().union(*(part.keys() for part in self.parts))
        return max((part.keys() for part in self.parts), key=_selectivity)


def requirements(pattern: str) -> Requirement | None:
    """What every match of ``pattern`` holds, or None when nothing is sure. Finer than
    `required_words`, for the pre-pass: runs of literals, small character classes and
    alternatives are spelt out ("t[0-9]", "c[5-8]"), each alternative keeps its own
    requirements, and an alternation's shared prefix (which the parser factors out) is put back
    on each alternative."""
    try:
        compiled = re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except re.error:
        return None
    if compiled.flags & re.IGNORECASE:
        return None
    return _all_of(list(parsed))


#: The most strings a run is spelt out to.
_MAX_SPELLINGS = 64
_DIGITS = [str(d) for d in range(10)]


def _all_of(items: list[tuple[object, object]]) -> Requirement | None:
    """The requirement of a sequence: each spelt-out run, and each mandatory part's."""
    parts: list[Requirement] = []
    run: set[str] = {""}
    pending: list[tuple[object, object]] = []  # the items the run was spelt from

    def flush() -> None:
        nonlocal run, pending
        if run != {""} and "" not in run:
            parts.append(Requirement(strings=frozenset(run)))
        run, pending = {""}, []

    for op, arg in items:
        spelt = _spellings(op, arg)
        if spelt is not None and len(run) * len(spelt) <= _MAX_SPELLINGS:
            run = {r + c for r in run for c in spelt}
            pending.append((op, arg))
            continue
        once = _first_of_repeat(op, arg)
        if once is not None and len(run) * len(once) <= _MAX_SPELLINGS:
            run = {r + c for r in run for c in once}  # "t\\d+": "t" and one digit are sure
            flush()
            continue
        if op is BRANCH:
            alternatives = [pending + list(alt) for alt in arg[1]]  # type: ignore[index]
            run, pending = {""}, []
            one = _any_of(alternatives)
            if one is not None:
                parts.append(one)
            continue
        flush()
        inner: Requirement | None = None
        if op is SUBPATTERN:
            inner = _all_of(list(arg[-1]))  # type: ignore[index]
        elif op in (MAX_REPEAT, MIN_REPEAT) and arg[0] >= 1:  # type: ignore[index]
            inner = _all_of(list(arg[2]))  # type: ignore[index]
        if inner is not None:
            parts.append(inner)
    flush()
    if not parts:
        return None
    # the rarest first, so a text without it is turned down at once
    parts.sort(key=lambda p: _selectivity(p.keys()), reverse=True)
    return parts[0] if len(parts) == 1 else Requirement(parts=tuple(parts))


def _any_of(alternatives: list[list[tuple[object, object]]]) -> Requirement | None:
    """Any alternative's requirement; None when one alternative requires nothing."""
    parts = []
    for alternative in alternatives:
        need = _all_of(alternative)
        if need is None:
            return None
        parts.append(need)
    return Requirement(parts=tuple(parts), any_part=True)


def _spellings(op: object, arg: object) -> list[str] | None:
    """Every string one item can match, when it is a literal, a small character class or a fully
    spellable group or alternation (an optional part included); else None."""
    if op is LITERAL:
        return [chr(arg)]  # type: ignore[arg-type]
    if op is IN:
        return _class_chars(arg)  # type: ignore[arg-type]
    if op is SUBPATTERN:
        spelt = _spell(list(arg[-1]))  # type: ignore[index]
        return sorted(spelt) if spelt is not None else None
    if op is BRANCH:
        options: set[str] = set()
        for alternative in arg[1]:  # type: ignore[index]
            spelt = _spell(list(alternative))
            if spelt is None:
                return None
            options |= spelt
        return sorted(options) if len(options) <= _MAX_SPELLINGS else None
    if op is MAX_REPEAT and arg[0] == 0 and arg[1] == 1:  # type: ignore[index]
        spelt = _spell(list(arg[2]))  # type: ignore[index]
        return sorted(spelt | {""}) if spelt is not None else None
    return None


def _first_of_repeat(op: object, arg: object) -> set[str] | None:
    """The spellings of one repetition of a part repeated at least once ("\\d+", "\\w{2,}")."""
    if op not in (MAX_REPEAT, MIN_REPEAT) or arg[0] < 1:  # type: ignore[index]
        return None
    return _spell(list(arg[2]))  # type: ignore[index]


def _spell(items: list[tuple[object, object]]) -> set[str] | None:
    run: set[str] = {""}
    for op, arg in items:
        spelt = _spellings(op, arg)
        if spelt is None or len(run) * len(spelt) > _MAX_SPELLINGS:
            return None
        run = {r + c for r in run for c in spelt}
    return run


def _class_chars(arg: list[tuple[object, object]]) -> list[str] | None:
    chars: list[str] = []
    for kind, value in arg:
        if kind is LITERAL:
            chars.append(chr(value))  # type: ignore[arg-type]
        elif kind is RANGE and value[1] - value[0] < 10:  # type: ignore[index]
            chars.extend(chr(c) for c in range(value[0], value[1] + 1))  # type: ignore[index]
        elif kind is CATEGORY and value is CATEGORY_DIGIT:
            chars.extend(_DIGITS)
        else:
            return None
    return chars or None


def _selectivity(group: frozenset[str]) -> tuple[int, int]:
    """Longer strings are rarer, and a short one of digits or signs rarer than letters; one
    taken to be everywhere is no use as an index."""
    language = _LANGUAGE.get()
    if any(_everywhere(w, language) for w in group):
        return -1, 0
    return min(len(w) + (0 if w.isalpha() else 1) for w in group), -len(group)


def without_lookahead(pattern: str) -> str:
    """`pattern` with every assertion about what follows removed (look-aheads, word boundaries,
    end anchors), outside look-behinds: it matches wherever the pattern does, whatever text
    follows, so a text may be tested for a match in one search without knowing where its
    sentences end."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern.startswith(("(?=", "(?!"), i):
            i = _group_end(pattern, i)
        elif pattern.startswith(("(?<=", "(?<!"), i):
            end = _group_end(pattern, i)
            out.append(pattern[i:end])
            i = end
        elif pattern.startswith(("\\b", "\\B", "\\Z"), i):
            i += 2
        elif pattern[i] == "\\":
            out.append(pattern[i : i + 2])
            i += 2
        elif pattern[i] == "[":
            end = _class_end(pattern, i)
            out.append(pattern[i:end])
            i = end
        elif pattern[i] == "$":
            i += 1
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def _class_end(pattern: str, i: int) -> int:
    """Index just past the character class opening at i."""
    j = i + 1
    if j < len(pattern) and pattern[j] == "^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1


def _group_end(pattern: str, i: int) -> int:
    """Index just past the group opening at i."""
    depth, j = 0, i
    while j < len(pattern):
        c = pattern[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            j = _class_end(pattern, j)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return j


def lookbehind(pattern: str) -> int:
    """The widest look-behind in `pattern`, in characters (a bounded width: `re` requires it)."""
    widest = 0

    def walk(items: list[tuple[object, object]]) -> None:
        nonlocal widest
        for op, arg in items:
            if op in (ASSERT, ASSERT_NOT) and arg[0] == -1:  # type: ignore[index]
                widest = max(widest, arg[1].getwidth()[1])  # type: ignore[index]
            for sub in _children(op, arg):
                walk(sub)

    walk(list(sre_parse.parse(pattern)))
    return widest


def _children(op: object, arg: object) -> list[list[tuple[object, object]]]:
    if op is SUBPATTERN:
        return [list(arg[-1])]  # type: ignore[index]
    if op is BRANCH:
        return [list(a) for a in arg[1]]  # type: ignore[index]
    if op in (MAX_REPEAT, MIN_REPEAT):
        return [list(arg[2])]  # type: ignore[index]
    if op in (ASSERT, ASSERT_NOT):
        return [list(arg[1])]  # type: ignore[index]
    return []
