"""A language is a folder of data: an invented language "xx", written in a temporary folder with a
handful of made-up words, is read by the same code as English, with nothing of English in it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from backtriage.cache import CACHE_ENV
from backtriage.domain.urgency import UrgencyLevel
from backtriage.errors import InvalidInputError
from backtriage.text.assess import assess_text
from backtriage.text.pipeline import TextPipeline
from backtriage.text.resources import TextResources, load_text_resources
from backtriage.text.understand import understand

#: The invented words: "glorp" is numb, "vrak" the saddle area, "zib" the back, "ow" pain, "na" no.
CONCEPTS = {
    "negators": ["na"],
    "determiner_negators": ["na"],
    "concepts": {
        "NUMB": {"words": ["glorp", "glorpy"]},
        "SADDLE": {"words": ["vrak", "tween legz"]},
        "BACK": {"words": ["zib"]},
        "PAIN": {"words": ["ow"]},
    },
    "findings": {
        "saddle_anaesthesia": [{"all": ["NUMB", "SADDLE"]}],
        "back_pain": [{"all": ["BACK", "PAIN"]}],
    },
    "sides": {"left": ["lefta"], "right": ["rija"]},
}
FILES: dict[str, object] = {
    "manifest.yaml": {
        "manifest": {
            "name": "an invented language for tests",
            "version": "0.0.1",
            "language": "xx",
            "spacy_language": "xx",
            "medspacy_rules": False,
        }
    },
    "concepts.yaml": CONCEPTS,
    "lexicon.yaml": {"targets": {}},
    "context_rules.json": {
        "context_rules": [{"category": "NEGATED_EXISTENCE", "literal": "na", "direction": "FORWARD"}]
    },
    "section_rules.json": {"section_rules": []},
    "note_layout.yaml": {
        "min_headings": 3,
        "long_note_chars": 1000,
        "min_headings_long_note": 2,
        "title_chars": 120,
        "sections": {"history": ["pasta"]},
    },
    "actions.yaml": {"actions": []},
    "sentences.yaml": {"answers": ["na", "ya"]},
    "age_sex_and_time.yaml": {
        "ages": [r"\b(\d{1,3})\s*anos\b"],
        "durations": {"numbers": {"un": 1}, "units": {"day": {"days": 1, "words": ["dai", "dais"]}}},
    },
}


def write_language(folder: Path) -> Path:
    """The invented language's folder, each file in the format of its extension."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in FILES.items():
        text = json.dumps(content) if name.endswith(".json") else yaml.safe_dump(content, allow_unicode=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(folder))
        yield folder


@pytest.fixture(scope="module")
def resources(tmp_path_factory: pytest.TempPathFactory, cache: Path) -> TextResources:
    return load_text_resources(write_language(tmp_path_factory.mktemp("lang") / "xx"))


@pytest.fixture(scope="module")
def xx(resources: TextResources) -> TextPipeline:
    return TextPipeline.build(resources)


def test_the_folder_names_its_language_and_the_pipeline_follows_it(xx: TextPipeline) -> None:
    """The manifest's codes choose spaCy's blank pipeline and the reader's language."""
    assert xx.resources.language == "xx" and xx.resources.spacy_language == "xx"
    assert xx.nlp.lang == "xx" and xx.concepts.language == "xx"


def test_saddle_numbness_is_read_from_invented_words(xx: TextPipeline) -> None:
    """Concepts in made-up words compose the finding, with a side named in the language."""
    found = understand("mi vrak es glorpy. lefta zib ow", pipeline=xx)
    assert found.answers == {"saddle_anaesthesia": True, "back_pain": True}
    back = [m for m in found.reading.mentions if m.finding == "back_pain"] if found.reading else []
    assert [m.laterality for m in back] == ["left"]


def test_negation_in_the_invented_language(xx: TextPipeline) -> None:
    """'na' denies what follows, through the folder's ConText rule and negators alone."""
    found = understand("na glorp tween legz", pipeline=xx)
    assert found.answers == {"saddle_anaesthesia": False}


def test_english_words_mean_nothing_in_the_invented_language(xx: TextPipeline) -> None:
    """No English rule is left in the code: English symptoms are not read, nor an English age."""
    found = understand("I am 45 and numb in the saddle area", pipeline=xx)
    assert found.answers == {} and found.reading is not None and found.reading.age is None


def test_ages_and_durations_come_from_the_folder(xx: TextPipeline) -> None:
    """The folder's own age pattern and unit words are read."""
    found = understand("45 anos. vrak glorp un dai", pipeline=xx)
    assert found.reading is not None
    assert (found.reading.age, found.reading.duration_days) == (45, 1.0)


def test_assess_text_gives_an_emergency_in_the_invented_language(xx: TextPipeline) -> None:
    """The knowledge base's red-flag rules judge findings read in any language."""
    assert assess_text("glorp vrak", pipeline=xx).urgency is UrgencyLevel.EMERGENCY
    assert assess_text("na glorp vrak", pipeline=xx).urgency is not UrgencyLevel.EMERGENCY


def test_a_pipeline_of_another_language_than_asked_for_is_an_error(xx: TextPipeline) -> None:
    with pytest.raises(InvalidInputError, match="xx"):
        understand("glorp vrak", pipeline=xx, language="en")


def test_cache_entries_name_their_language(xx: TextPipeline, cache: Path) -> None:
    """A language's lexicon, pattern analysis and word frequencies never reuse another's."""
    names = [p.name for p in cache.glob("*.json")]
    assert any(n.startswith("lexicon-xx-") for n in names)
    assert any(n.startswith("word-frequency-xx-") for n in names)
    assert not any("-en-" in n for n in names), names
