"""The text resources load, match the knowledge base, and fail loudly when broken."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from backtriage.errors import InvalidInputError, KnowledgeBaseError
from backtriage.knowledge.loader import load_knowledge_base
from backtriage.text.resources import ABSENT_SUFFIX, data_dir, load_text_resources, shipped_languages


def test_shipped_resources_load_and_cover_the_red_flags() -> None:
    res = load_text_resources()
    kb = load_knowledge_base()
    findings = {label.removesuffix(ABSENT_SUFFIX) for label in res.targets}
    assert findings <= set(kb.findings)
    assert kb.red_flag_findings <= findings
    assert res.version.count(".") == 2 and len(res.content_hash) == 64
    assert len(res.context_rules) > 100


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "text"
    shutil.copytree(data_dir(), target)
    return target


def test_unknown_finding_in_lexicon(copy: Path) -> None:
    lexicon = copy / "lexicon.yaml"
    lexicon.write_text(lexicon.read_text() + "  not_a_finding:\n    patterns: ['x']\n")
    with pytest.raises(KnowledgeBaseError, match="not_a_finding"):
        load_text_resources(copy)


def test_pattern_that_does_not_compile(copy: Path) -> None:
    lexicon = copy / "lexicon.yaml"
    lexicon.write_text(
        lexicon.read_text().replace("    patterns:\n", "    patterns:\n      - '(unclosed'\n", 1)
    )
    with pytest.raises(KnowledgeBaseError, match="does not compile"):
        load_text_resources(copy)


def test_unknown_context_category(copy: Path) -> None:
    rules = copy / "context_rules.json"
    data = json.loads(rules.read_text())
    data["context_rules"].append({"category": "MAYBE", "literal": "perhaps", "direction": "FORWARD"})
    rules.write_text(json.dumps(data))
    with pytest.raises(KnowledgeBaseError, match="unknown ConText category 'MAYBE'"):
        load_text_resources(copy)


def test_concept_vocabulary_loads_with_every_red_flag_composed() -> None:
    res = load_text_resources()
    kb = load_knowledge_base()
    assert set(res.concepts.findings) <= set(kb.findings)
    assert {"saddle_anaesthesia", "bladder_dysfunction", "foot_drop", "sensory_level"} <= set(
        res.concepts.findings
    )
    assert res.language == "en"


def test_composition_naming_an_unknown_concept(copy: Path) -> None:
    concepts = copy / "concepts.yaml"
    concepts.write_text(
        concepts.read_text().replace(
            "  saddle_anaesthesia:\n", "  saddle_anaesthesia:\n    - {all: [NO_SUCH_CONCEPT]}\n", 1
        )
    )
    with pytest.raises(KnowledgeBaseError, match="unknown concept 'NO_SUCH_CONCEPT'"):
        load_text_resources(copy)


def test_composition_for_an_unknown_finding(copy: Path) -> None:
    concepts = copy / "concepts.yaml"
    concepts.write_text(
        concepts.read_text().replace(
            "\nfindings:\n", "\nfindings:\n  not_a_finding:\n    - {all: [NUMB]}\n", 1
        )
    )
    with pytest.raises(KnowledgeBaseError, match="not_a_finding"):
        load_text_resources(copy)


def test_unknown_key_in_the_concept_vocabulary(copy: Path) -> None:
    concepts = copy / "concepts.yaml"
    concepts.write_text(concepts.read_text() + "\nsynonyms: [a, b]\n")
    with pytest.raises(KnowledgeBaseError, match="synonyms"):
        load_text_resources(copy)


def test_misspelt_key_inside_a_composition(copy: Path) -> None:
    concepts = copy / "concepts.yaml"
    concepts.write_text(concepts.read_text().replace("{all: [SCIATICA]}", "{all: [SCIATICA], windw: 3}", 1))
    with pytest.raises(KnowledgeBaseError, match="windw"):
        load_text_resources(copy)


def test_a_key_given_twice_is_an_error_not_a_silent_overwrite(copy: Path) -> None:
    lexicon = copy / "lexicon.yaml"
    lexicon.write_text(lexicon.read_text() + "  itch:\n    patterns: ['itchy']\n")
    with pytest.raises(KnowledgeBaseError, match="given twice"):
        load_text_resources(copy)


# ---- a language is a folder of data ------------------------------------------------------------


def test_the_manifest_names_the_language_and_its_spacy_code() -> None:
    res = load_text_resources(language="en")
    assert (res.language, res.spacy_language, res.medspacy_rules) == ("en", "en", True)
    assert res is load_text_resources()  # loaded once per process


@pytest.mark.parametrize("language", shipped_languages())
def test_every_shipped_language_folder_loads(language: str) -> None:
    """Each folder under text/data/ loads through the one strict loader and names its language."""
    assert load_text_resources(language=language).language == language


def test_a_language_without_a_folder_is_an_input_error() -> None:
    with pytest.raises(InvalidInputError, match="'zz'"):
        load_text_resources(language="zz")


@pytest.mark.parametrize(
    ("file", "addition", "named"),
    [
        ("sentences.yaml", "\nabbrevations: [dr]\n", "abbrevations"),
        ("age_sex_and_time.yaml", "\nweights: [kg]\n", "weights"),
        ("actions.yaml", "\nplan_heading: [plan]\n", "plan_heading"),
        ("note_layout.yaml", "\nplural: [s]\n", "plural"),
    ],
)
def test_unknown_keys_of_the_language_files_are_rejected(
    copy: Path, file: str, addition: str, named: str
) -> None:
    path = copy / file
    path.write_text(path.read_text(encoding="utf-8") + addition, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=named):
        load_text_resources(copy)


def test_a_misspelt_key_inside_the_time_words_is_rejected(copy: Path) -> None:
    path = copy / "age_sex_and_time.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("  ago: [", "  agos: [", 1), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="agos"):
        load_text_resources(copy)


def test_an_age_pattern_without_a_group_is_rejected(copy: Path) -> None:
    path = copy / "age_sex_and_time.yaml"
    text = path.read_text(encoding="utf-8").replace("ages:\n", "ages:\n  - 'aged \\d+'\n", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="no group"):
        load_text_resources(copy)


def test_a_missing_language_file_is_named(copy: Path) -> None:
    (copy / "sentences.yaml").unlink()
    with pytest.raises(KnowledgeBaseError, match="sentences.yaml: file is missing"):
        load_text_resources(copy)


def test_a_folder_or_a_language_not_both(copy: Path) -> None:
    with pytest.raises(ValueError, match="not both"):
        load_text_resources(copy, language="en")
