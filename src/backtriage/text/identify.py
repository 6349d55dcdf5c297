"""Which language a text is in, so that words backtriage cannot read are said to be unread, never
read as "nothing found" and passed off as a triage.

The identifier is Lingua (`lingua-language-detector`: offline, its models inside the wheel, no
dependency, no download), restricted to the languages a person writing to backtriage is likely to
use (`CANDIDATES`), in its low-accuracy mode (trigram models only: about 50 MB and 0.3 s to load,
against about 700 MB and 5 s for the larger models, with no loss on short messages once the rule
below is applied); `benchmarks/bench_language_id.py` measures it against py3langid and fastText.

The rule favours the reader's language (`default`, English unless said otherwise). An English
text called foreign would lose its triage; a foreign text called English loses nothing that is
not already said (the reading finds nothing and says so). So:

  * only words carry language: numbers, tokens with digits in them ("45M", "L5", "2/52"),
    single letters and short abbreviations in capitals ("LBP", "SLR", "CES") are left out;
  * with fewer than `MIN_WORDS` such words, a text in the Latin alphabet is in the default
    language: "hi", "back numb" or "45M LBP" are too little to tell a language by;
  * another language, read or not, wins only when the default language has less than
    `SUPPORTED_FROM` of the detector's confidence and, in the Latin alphabet, the other has at
    least `FOREIGN_FROM` of it and its words say so too (wordfreq's lists): at least two words,
    and three times as many as are clearly in the default language, are clearly its own (ten
    times as common in it, `CLEARLY`). Short clinical English ("Normal rectal tone.", "Poor anal
    squeeze.") looks Romance or Dutch to a detector; "tone", "poor" and "squeeze" are English.
    In another alphabet the detector's choice stands: the default language is not in the running.

The detector is built once per process, on first use, under a lock; Lingua's detector may then be
used from any thread. A word list is loaded the first time a text seems to be in its language.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from backtriage.domain.assessment import ReadingNote, TextReading

if TYPE_CHECKING:
    from lingua import LanguageDetector

__all__ = [
    "CANDIDATES",
    "CHARACTERS_READ",
    "CLEARLY",
    "FOREIGN_FROM",
    "MIN_WORDS",
    "SUPPORTED_FROM",
    "WORDS_READ",
    "LanguageGuess",
    "identify",
    "readable_languages",
    "unreadable_reading",
    "warm_up",
    "words_of",
]

#: The languages a text is told apart from (ISO 639-1): English and the languages of the
#: countries it is used in, and those most spoken by people who live there and may write in them.
#: A supported language missing here is added when the detector is built.
CANDIDATES: tuple[str, ...] = (
    "en", "es", "fr", "de", "pt", "it", "nl", "pl", "ro", "lt", "lv", "cs", "sk", "hu", "bg", "el",
    "sq", "tr", "ru", "uk", "ar", "fa", "ur", "hi", "bn", "pa", "gu", "ta", "zh", "ja", "ko", "vi",
    "so", "tl",
)  # fmt: skip
#: Fewer words than this in the Latin alphabet are too few to call a text foreign.
MIN_WORDS = 3
#: A supported language with at least this share of the confidence wins.
SUPPORTED_FROM = 0.1
#: The share a foreign language needs to be named, for a text in the Latin alphabet.
FOREIGN_FROM = 0.5
#: A word is clearly of one language when it is this much more common in it (Zipf scale: 1 is ten
#: times as common).
CLEARLY = 1.0
#: The words read to tell the language of a long text (enough to tell, and the time stays short),
#: from at most this many of its first characters.
WORDS_READ = 200
CHARACTERS_READ = 4000
_LANGUAGE_FOLDER = re.compile(r"[a-z]{2}")
#: wordfreq's names for languages it calls otherwise.
_WORDFREQ_NAME = {"tl": "fil"}

#: A word: letters, with apostrophes inside ("can't", "m'essuie"); digits split it off.
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
#: An abbreviation in capitals: at most this many letters.
_ABBREVIATION = 5
#: A text in capitals (60% of its letters, as understand.py has it) with this many letters is
#: typed in capitals, not made of abbreviations.
_SHOUTING_FROM = 20


@dataclass(frozen=True)
class LanguageGuess:
    """The language a text seems to be in.

    `confidence` is the detector's share for it (0 to 1); 0 when the text had too few words to
    tell, and the language was assumed to be the first supported one."""

    language: str
    confidence: float
    supported: bool


_lock = threading.Lock()
_detectors: dict[frozenset[str], LanguageDetector] = {}


def _detector(languages: frozenset[str]) -> LanguageDetector:
    """The detector for these languages, built once per process."""
    found = _detectors.get(languages)
    if found is not None:
        return found
    with _lock:
        found = _detectors.get(languages)
        if found is None:
            from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

            known = [Language.from_iso_code_639_1(IsoCode639_1.from_str(code)) for code in sorted(languages)]
            found = (
                LanguageDetectorBuilder.from_languages(*known)
                .with_low_accuracy_mode()
                .with_preloaded_language_models()
                .build()
            )
            _detectors[languages] = found
        return found


def _known(code: str) -> bool:
    from lingua import IsoCode639_1

    try:
        IsoCode639_1.from_str(code)
    except ValueError:
        return False
    return True


def words_of(text: str) -> list[str]:
    """The words that carry a language: no numbers, single letters or abbreviations in capitals
    (unless the whole text is typed in capitals, when its words are words)."""
    found = _WORD.findall(text)
    letters = "".join(found)
    shouting = len(letters) >= _SHOUTING_FROM and sum(map(str.isupper, letters)) >= 0.6 * len(letters)
    return [w for w in found if len(w) > 1 and (shouting or not (w.isupper() and len(w) <= _ABBREVIATION))]


def _latin(words: list[str]) -> bool:
    """Most letters are in the Latin alphabet."""
    letters = [c for w in words for c in w if c.isalpha()]
    latin = sum(unicodedata.name(c, "").startswith("LATIN") for c in letters)
    return latin * 2 >= len(letters)


def identify(text: str, supported: Collection[str], *, default: str | None = None) -> LanguageGuess:
    """The language `text` seems to be in, and whether it is one of `supported` (ISO 639-1
    codes). A text too short to tell is taken to be in `default` (the reader's language, when it
    is supported), else in English when English is supported, else in the first supported
    language in alphabetical order."""
    if not supported:
        raise ValueError("at least one supported language is needed")
    if default is None or default not in supported:
        default = "en" if "en" in supported else min(supported)
    words = words_of(text[:CHARACTERS_READ])[:WORDS_READ]
    latin = _latin(words)
    if not words or (latin and len(words) < MIN_WORDS):
        return LanguageGuess(default, 0.0, True)
    readable = frozenset(code for code in supported if _known(code))
    detector = _detector(frozenset(CANDIDATES) | readable)
    shares = {
        c.language.iso_code_639_1.name.lower(): c.value
        for c in detector.compute_language_confidence_values(" ".join(words))
    }
    top = max(shares, key=shares.__getitem__)
    kept = shares.get(default, 0.0)
    # Another language than the default one, read or not, has to win clearly, on the detector's
    # shares and (in the Latin alphabet) on its words.
    if top == default or kept >= SUPPORTED_FROM:
        return LanguageGuess(default, kept, True)
    if latin and (shares[top] < FOREIGN_FROM or not _words_say(words, top, default)):
        return _readable_by_words(words, shares, readable, default) or LanguageGuess(default, kept, True)
    return LanguageGuess(top, shares[top], top in readable)


def _readable_by_words(
    words: list[str], shares: dict[str, float], readable: frozenset[str], default: str
) -> LanguageGuess | None:
    """When the detector's favourite is unclear ("holaa me duele la espalda": Latvian by a little),
    another language we read, with a share of its own, whose words clearly say it is that one."""
    for code in sorted(readable - {default}, key=lambda c: -shares.get(c, 0.0)):
        if shares.get(code, 0.0) >= SUPPORTED_FROM and _words_say(words, code, default):
            return LanguageGuess(code, shares[code], True)
    return None


def _words_say(words: list[str], foreign: str, ours: str) -> bool:
    """At least two words, and three times as many as are clearly in `ours`, are clearly in
    `foreign` ("fine wen im" has two German words and one English one: English). Our language's
    full word list against the foreign language's list of its commoner words: a word in doubt
    counts for ours."""
    theirs = [_zipf(w.lower(), foreign, "small") - _zipf(w.lower(), ours, "best") for w in words]
    in_foreign = sum(d >= CLEARLY for d in theirs)
    in_ours = sum(d <= -CLEARLY for d in theirs)
    return in_foreign >= 2 and in_foreign >= 3 * in_ours


def _zipf(word: str, language: str, wordlist: str) -> float:
    """How common a word is in a language (wordfreq's Zipf scale). A language without a word list
    (Somali, Albanian) counts no word as its own: otherwise made-up or badly misspelt words, in no
    list at all, would prove a text to be in it, and an English text would go unread. Such a text
    is read as the default language, and the "nothing found" note covers it."""
    from wordfreq import zipf_frequency

    name = _WORDFREQ_NAME.get(language, language)
    if name not in _word_lists(wordlist):
        return 0.0
    return float(zipf_frequency(word, name, wordlist=wordlist))


@lru_cache(maxsize=2)
def _word_lists(wordlist: str) -> frozenset[str]:
    from wordfreq import available_languages

    return frozenset(available_languages(wordlist))


@lru_cache(maxsize=1)
def warm_up() -> None:
    """Load the detector now, at a server's start, not while the first person waits."""
    readable = frozenset(code for code in readable_languages() if _known(code))
    _detector(frozenset(CANDIDATES) | readable)


def readable_languages() -> frozenset[str]:
    """The languages backtriage reads: a language is a folder of text resources with a manifest
    (`text/data/<language>/manifest.yaml`)."""
    data = resources.files("backtriage.text") / "data"
    return frozenset(
        folder.name
        for folder in data.iterdir()
        if _LANGUAGE_FOLDER.fullmatch(folder.name) and (folder / "manifest.yaml").is_file()
    )


def unreadable_reading(text: str, guess: LanguageGuess) -> TextReading:
    """The reading of a text in a language we cannot read: no mention, nothing read from it (not
    even an age), and a note that says so, naming the language."""
    return TextReading(
        characters=len(text), mentions=[], notes=[ReadingNote.LANGUAGE_NOT_READ], language=guess.language
    )
