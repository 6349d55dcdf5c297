"""Which language a text is in: foreign texts are said to be foreign, and English is never called
foreign, however short, misspelt or abbreviated (text/identify.py). Every message here was written
for these tests."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtriage.domain.assessment import ReadingNote, TextReading
from backtriage.text import identify as identify_module
from backtriage.text.identify import (
    CANDIDATES,
    LanguageGuess,
    identify,
    readable_languages,
    unreadable_reading,
    words_of,
)

ENGLISH = {"en"}

FOREIGN = [
    ("fr", "j'ai des fourmillements dans le bas du dos depuis lundi"),
    ("fr", "je ne sens plus rien quand je m'essuie et je n'arrive pas à uriner"),
    ("fr", "bonjour docteur, mon dos est engourdi après une chute"),
    ("fr", "jai le dos engourdi et les jambes faibles depuis hier soir"),
    ("de", "mein unterer Rücken kribbelt seit zwei Wochen beim Sitzen"),
    ("de", "ich spüre nichts beim Abwischen und kann nicht richtig pinkeln"),
    ("de", "hallo, nach dem Sturz ist mein Rücken ganz taub"),
    ("de", "MEIN RÜCKEN IST SEIT DREI TAGEN TAUB"),
    ("pt", "sinto formigueiro nas costas quando fico muito tempo sentado"),
    ("pt", "não sinto nada quando me limpo e não consigo fazer xixi"),
    ("pt", "nao sinto as pernas direito e as costas estao dormentes"),
    ("pt", "olá doutor, as minhas costas estão dormentes há uma semana"),
]

SPANISH = [
    "siento hormigueo en la espalda baja cuando estoy mucho rato sentada",
    "no siento nd al limpiarme y no puedo mear",
    "tengo la espalda dormida desde ayer q hago",
    "hola doctor, se me duermen la espalda y la pierna izquierda",
]

SHORT_ENGLISH = [
    "hi",
    "hello",
    "help",
    "numb",
    "back numb",
    "numb back",
    "my back",
    "45M LBP",
    "62F",
    "L5",
    "2/52",
    "?CES",
    "LBP 3/7",
    "hello doctor",
    "back tingles",
]

ENGLISH_MESSAGES = [
    "tingling in my lower back when I sit for long",
    "my back has gone numb and I can't pee properly",
    "tinglin in my lowr bak wen i sit",
    "cant fel nothing down there wen i wipe",
    "pins n needles in bak n leg",
    "backk numbb sinse yesturday",
    "u think its serius if my back goes numb",
    "45M LBP 2/52 no saddle anaes",
    "62F numb L thigh, SLR neg, PU/PO nil",
    "LBP w/ paraesthesia L5 dist, 3/7",
    "hx ca prostate, new T-spine numbness",
    "c/o back numbness, no B&B sx, no fever",
    "Pt reports intermittent paraesthesia lumbar region, nil red flags",
    "Normal rectal tone.",
    "Poor anal squeeze.",
    "Extensor plantar response.",
    "Vitals: temperature 102.3 F, pulse 112.",
    "MY BACK HAS BEEN NUMB FOR THREE DAYS",
]


@pytest.mark.parametrize(("language", "text"), FOREIGN)
def test_french_german_and_portuguese_are_named_and_not_read(language: str, text: str) -> None:
    guess = identify(text, ENGLISH)
    assert (guess.language, guess.supported) == (language, False)
    assert guess.confidence >= 0.5


@pytest.mark.parametrize("text", SPANISH)
def test_spanish_is_spanish_whether_or_not_it_is_read(text: str) -> None:
    assert identify(text, ENGLISH).language == "es"
    assert not identify(text, ENGLISH).supported
    read = identify(text, {"en", "es"})
    assert (read.language, read.supported) == ("es", True)


@pytest.mark.parametrize("read", [ENGLISH, {"en", "es"}], ids=["en", "en+es"])
@pytest.mark.parametrize("text", SHORT_ENGLISH + ENGLISH_MESSAGES)
def test_english_is_english_however_short_misspelt_or_abbreviated(text: str, read: set[str]) -> None:
    guess = identify(text, read)
    assert (guess.language, guess.supported) == ("en", True)


@pytest.mark.parametrize(("language", "text"), FOREIGN)
def test_a_language_we_do_not_read_is_not_taken_for_one_we_do(language: str, text: str) -> None:
    guess = identify(text, {"en", "es"})
    assert (guess.language, guess.supported) == (language, False)


@pytest.mark.parametrize("text", ["45 2/52 3/7", "L5 S1 T10", "LBP SLR CES PR", "!!! ??? ...", "", "   "])
def test_numbers_and_abbreviations_alone_are_not_a_language(text: str) -> None:
    assert words_of(text) == []
    assert identify(text, ENGLISH) == LanguageGuess("en", 0.0, True)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ar", "ظهري مخدر"),
        ("zh", "我的后背麻木了三天"),
        ("ru", "спина онемела"),
        ("uk", "У мене оніміла спина"),
    ],
)
def test_a_short_text_in_another_alphabet_is_foreign_all_the_same(language: str, text: str) -> None:
    guess = identify(text, ENGLISH)
    assert (guess.language, guess.supported) == (language, False)


def test_a_short_text_is_taken_to_be_in_the_readers_language_when_it_is_read() -> None:
    assert identify("espalda dormida", {"en", "es"}, default="es").language == "es"
    assert identify("back numb", {"en", "es"}).language == "en"
    assert identify("back numb", {"en"}, default="es").language == "en"  # not a supported one


def test_there_must_be_a_language_to_read() -> None:
    with pytest.raises(ValueError, match="supported language"):
        identify("my back is numb", set())


def test_english_is_read_and_is_a_candidate() -> None:
    assert "en" in readable_languages() and "en" in CANDIDATES
    assert len(CANDIDATES) == len(set(CANDIDATES))


def test_a_text_not_read_gives_a_reading_with_nothing_in_it_but_the_note() -> None:
    text = "j'ai 45 ans et le dos engourdi depuis trois jours"
    reading = unreadable_reading(text, identify(text, ENGLISH))
    assert reading.mentions == [] and reading.age is None and reading.duration_days is None
    assert reading.notes == [ReadingNote.LANGUAGE_NOT_READ]
    assert reading.language == "fr" and reading.characters == len(text)


def test_a_reading_stored_before_languages_were_identified_still_loads() -> None:
    old = {"characters": 12, "mentions": [], "notes": ["nothing_found"], "resources_version": "1"}
    reading = TextReading.model_validate(old)
    assert reading.language is None and reading.notes == [ReadingNote.NOTHING_FOUND]
    assert ReadingNote("language_not_read") is ReadingNote.LANGUAGE_NOT_READ


def test_the_detector_is_built_once_whatever_the_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identify_module, "_detectors", {})
    texts = [t for _, t in FOREIGN] + ENGLISH_MESSAGES
    with ThreadPoolExecutor(max_workers=8) as pool:
        guesses = list(pool.map(lambda t: identify(t, ENGLISH), texts * 4))
    assert len(identify_module._detectors) == 1
    alone = [identify(t, ENGLISH) for t in texts * 4]
    assert [(g.language, g.supported) for g in guesses] == [(g.language, g.supported) for g in alone]
    assert [g.confidence for g in guesses] == pytest.approx([g.confidence for g in alone])


def test_the_detector_is_loaded_on_first_use_not_on_import() -> None:
    code = (
        "import sys, backtriage.text.identify as i; assert 'lingua' not in sys.modules; "
        "i.identify('hi', {'en'}); assert 'lingua' not in sys.modules; "
        "i.identify('mon dos est engourdi depuis lundi', {'en'}); assert 'lingua' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


_GREETINGS = ["hi", "hello", "hello doctor", "hi doc", "dear doctor", "good morning", "hey", "hi there"]
_AGES = ["45M", "62F", "I am 45", "I'm 67", "age 30", "aged 52", "30 yo", "45 year old", "(45)"]
_AROUND = st.one_of(
    st.sampled_from(_GREETINGS),
    st.sampled_from(_AGES),
    st.integers(min_value=0, max_value=10_000).map(str),
    st.text(alphabet="0123456789!?.,;:-()/ \n", max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(
    text=st.sampled_from(SHORT_ENGLISH + ENGLISH_MESSAGES),
    before=st.lists(_AROUND, max_size=3),
    after=st.lists(_AROUND, max_size=3),
    glue=st.sampled_from([" ", ", ", ". ", "\n", " - "]),
)
def test_greetings_ages_numbers_and_punctuation_never_make_english_foreign(
    text: str, before: list[str], after: list[str], glue: str
) -> None:
    wrapped = glue.join([*before, text, *after])
    guess = identify(wrapped, ENGLISH)
    assert (guess.language, guess.supported) == ("en", True), wrapped


def test_made_up_words_never_prove_a_language_without_a_word_list() -> None:
    """Badly misspelt or made-up words are in no word list: they must not make a text Somali or
    Albanian (languages without one), or the English words among them would go unread."""
    import random
    import string

    rng = random.Random(7)
    for _ in range(20):
        words = " ".join("".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 9))) for _ in range(40))
        guess = identify(f"{words} my back is numb", readable_languages())
        assert guess.supported, guess
