"""The sections of a clinical note and the kind of note it is, read from its headings.

The headings and what each section is for are data (`data/<language>/note_layout.yaml`). This is
read on the whole text before it is cut into pieces for spaCy, so a section reaches as far as the
next heading however long it is. A text with few recognised headings (a person's message, a
two-line triage note) is not a document: it has no sections and is read sentence by sentence.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace

from backtriage.domain.note import NoteKind, SectionRole
from backtriage.text.resources import NoteLayoutSpec
from backtriage.text.words import once_per, words_pattern

__all__ = ["NoteLayout", "Section", "read_layout"]


@dataclass(frozen=True)
class Section:
    """One section: its heading as written, the role it plays and where it runs."""

    heading: str
    role: SectionRole
    start: int  # the heading's first character
    end: int  # where the next section starts


@dataclass(frozen=True)
class NoteLayout:
    kind: NoteKind
    sections: tuple[Section, ...] = ()

    @property
    def is_document(self) -> bool:
        return bool(self.sections)

    def section_at(self, offset: int) -> Section | None:
        """The section a character is in; None before the first heading or in a message."""
        starts = [s.start for s in self.sections]
        i = bisect.bisect_right(starts, offset) - 1
        return self.sections[i] if i >= 0 and offset < self.sections[i].end else None

    def regions(self, roles: frozenset[SectionRole]) -> list[tuple[int, int]]:
        return [(s.start, s.end) for s in self.sections if s.role in roles]

    def regions_without(self, roles: frozenset[SectionRole], length: int) -> list[tuple[int, int]]:
        """Character ranges of a text of `length` outside the sections with these roles (the text
        before the first heading and under headings we do not know included)."""
        regions, pos = [], 0
        for s in self.sections:
            if s.role in roles:
                if s.start > pos:
                    regions.append((pos, s.start))
                pos = max(pos, s.end)
        if pos < length:
            regions.append((pos, length))
        return regions


MESSAGE = NoteLayout(NoteKind.MESSAGE)

#: The letters a heading may be written in: Latin letters with their accents ("Exploración
#: física:", "ANTÉCÉDENTS"); the script, not the words, which are the language folder's.
LETTER = "A-Za-zÀ-ÖØ-öø-ÿ"
CAPITAL = "A-ZÀ-ÖØ-Þ"
#: A heading at the start of a line: a short phrase and a colon ("Plan:", "PAST MEDICAL HISTORY:").
_LINE_HEADING = re.compile(
    rf"^[ \t>*#-]*([{LETTER}][{LETTER}0-9 /&()',.-]{{0,60}}?)[ \t]*:(?!//)", re.MULTILINE
)
#: A heading after the end of a sentence or another heading on the same line ("... normal. HEENT:
#: ...", "; FHx: nil", "REVIEW OF SYSTEMS: GU: ...").
_INLINE_HEADING = re.compile(rf"(?<=[.;:!?)])[ \t]+([{LETTER}][{LETTER}0-9 /&()',-]{{0,60}}?)[ \t]*:(?!\d)")
#: A line of capitals alone ("HOSPITAL COURSE").
_BARE_HEADING = re.compile(rf"^[ \t]*([{CAPITAL}][{CAPITAL} /&()'-]{{2,60}}?)[ \t]*$", re.MULTILINE)
#: A known heading at the start of a line with a dash ("A - 1. Plantar fasciitis", "Plan - rest").
_DASH_HEADING = re.compile(rf"^[ \t>*#]*([{LETTER}][{LETTER} /&]{{0,40}}?)[ \t]+[-\u2013][ \t]", re.MULTILINE)
_SPACES = re.compile(r"\s+")
#: The most words an unknown heading at the start of a line has ("Red flags:", "Systemic:").
_SHORT_HEADING_WORDS = 4


def _normal(heading: str, spec: NoteLayoutSpec) -> str:
    """A heading as the layout lists it: lower case, spaces squeezed, a plural mark dropped."""
    return _plural(spec).sub("", _SPACES.sub(" ", heading.strip().lower())).rstrip(" .,")


def _plural_pattern(spec: NoteLayoutSpec) -> re.Pattern[str]:
    """A plural ending in brackets after a heading: "DIAGNOSIS(ES)"."""
    return re.compile(rf"\s*\((?:{words_pattern(spec.plural_marks)})\)$")


_plural = once_per(_plural_pattern)


@dataclass(frozen=True)
class _Heading:
    start: int
    text: str
    key: str
    role: SectionRole | None  # None: a heading we do not know, read as ordinary text
    inherits: bool  # a subheading: it keeps the role of the section it sits in
    after: int = 0  # just past the heading's colon or dash

    @property
    def kind(self) -> str:
        return "known" if self.role is not None else "sub" if self.inherits else "unknown"


def read_layout(text: str, spec: NoteLayoutSpec) -> NoteLayout:
    """Sections (each heading to the next) and kind of a note; `MESSAGE` when it has too few
    known headings to be a document."""
    headings = _headings(text, spec)
    known = {h.key for h in headings if h.key in spec.role_of}
    enough = spec.min_headings if len(text) < spec.long_note_chars else spec.min_headings_long_note
    if len(known) < enough:
        return MESSAGE
    sections: list[Section] = []
    role: SectionRole | None = None
    for i, h in enumerate(headings):
        end = headings[i + 1].start if i + 1 < len(headings) else len(text)
        role = role if h.inherits else h.role
        if role is not None:
            sections.append(Section(h.text, role, h.start, _section_end(text, h, role, end)))
    opening = _normal(text[: spec.title_chars], spec)
    kind = next(
        (k.kind for k in spec.kinds if known & set(k.headings) or _has_title(opening, k.titles)),
        NoteKind.CONSULT,
    )
    return NoteLayout(kind, tuple(sections))


#: A heading in capitals this long is dictated ("PAST MEDICAL HISTORY:", "MEDICATIONS:"), not
#: an abbreviation on a line of its own ("DH:", "PMH:").
_DICTATED_LETTERS = 5
_MORE_SENTENCES = re.compile(r"[.;]\s+(?=\S)")
_LIST_ITEM = re.compile(r"[ \t]*(?:[-*\u2022\u00b7]|\d{1,2}[.)])\s")


def _section_end(text: str, heading: _Heading, role: SectionRole, next_start: int) -> int:
    """Where a section ends. A dictated heading in capitals runs to the next heading. A short
    heading with its content on its line ("DH: metformin", "PMH: asthma") sets aside only its
    first sentence, or its line and the list items under it: a triage note goes on in plain
    sentences and lines ("Temp 38.2 ..."), and those are the patient's state now, not more past
    history or medicines. A heading that is itself a list item ("- PMH: HTN") is one item among
    its siblings: the items after it are not its list."""
    line_end = text.find("\n", heading.after)
    if line_end < 0:  # the last line: it may still go on in other sentences ("PMH: ca 2018. Now ...")
        line_end = len(text)
    dictated = heading.text.isupper() and sum(c.isalpha() for c in heading.text) >= _DICTATED_LETTERS
    if role.describes_patient_now or dictated:
        return next_start
    if not text[heading.after : line_end].strip():
        return next_start  # the heading is alone on its line: what follows is its content
    more = _MORE_SENTENCES.search(text, heading.after, line_end)
    if more is not None:  # "DH: metformin. 3/7 pain, shivery": the line goes on in other sentences
        return min(more.start() + 1, next_start)
    line_start = text.rfind("\n", 0, heading.start) + 1
    if _LIST_ITEM.match(text, line_start):
        return min(line_end, next_start)
    end = line_end
    while end < next_start and _LIST_ITEM.match(text, end + 1):
        following = text.find("\n", end + 1)
        end = following if following >= 0 else len(text)
    return min(end, next_start)


def _has_title(opening: str, titles: list[str]) -> bool:
    return any(re.search(rf"(?<!\w){re.escape(t)}(?!\w)", opening) for t in titles)


def _headings(text: str, spec: NoteLayoutSpec) -> list[_Heading]:
    """Every heading, in order. A known heading counts wherever a heading can stand; a heading in
    capitals we do not know, or a listed organ system, is a subheading; any other short phrase
    with a colon at the start of a line ("Red flags:") is a heading we do not know, which ends the
    section before it, so its words are never read as past or family history."""
    found: dict[int, _Heading] = {}
    for pattern, accepts in _PATTERNS:
        for m in pattern.finditer(text):
            heading = _classify(m.group(1), m.start(1), spec)
            if heading is not None and heading.kind in accepts:
                found.setdefault(heading.start, replace(heading, after=m.end()))
    return [found[k] for k in sorted(found)]


def _classify(words: str, start: int, spec: NoteLayoutSpec) -> _Heading | None:
    key = _normal(words, spec)
    if key in spec.role_of:
        return _Heading(start, words.strip(), key, spec.role_of[key], inherits=False)
    if key in spec.subheading_set or (words.isupper() and sum(c.isalpha() for c in words) >= 2):
        return _Heading(start, words.strip(), key, None, inherits=True)
    if len(key.split()) <= _SHORT_HEADING_WORDS:
        return _Heading(start, words.strip(), key, None, inherits=False)
    return None


#: Each way a heading is written, and which headings it may be: `known` (listed with a role),
#: `sub` (a subheading) or `unknown` (a short phrase we do not know).
_PATTERNS = (
    (_LINE_HEADING, frozenset({"known", "sub", "unknown"})),
    (_INLINE_HEADING, frozenset({"known", "sub"})),
    (_BARE_HEADING, frozenset({"known"})),
    (_DASH_HEADING, frozenset({"known"})),
)
