"""The disk cache of computed resources: a value is computed once and read back after; a
corrupt, unreadable or switched-off cache only costs the time."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtriage.cache import CACHE_ENV, cache_dir, cached_json


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_value_is_computed_once_and_then_read_back(folder: Path) -> None:
    calls: list[int] = []

    def build() -> dict[str, int]:
        calls.append(1)
        return {"a": 1}

    assert cached_json("thing", "source", build) == {"a": 1}
    assert cached_json("thing", "source", build) == {"a": 1}
    assert len(calls) == 1
    assert len(list(folder.glob("thing-*.json"))) == 1


def test_another_source_is_another_entry(folder: Path) -> None:
    assert cached_json("thing", "one", lambda: 1) == 1
    assert cached_json("thing", "two", lambda: 2) == 2
    assert len(list(folder.glob("thing-*.json"))) == 2


def test_a_corrupt_entry_is_computed_afresh(folder: Path) -> None:
    cached_json("thing", "source", lambda: [1, 2])
    (entry,) = folder.glob("thing-*.json")
    entry.write_text("{not json", encoding="utf-8")
    assert cached_json("thing", "source", lambda: [3]) == [3]


def test_off_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    assert cache_dir() is None
    calls: list[int] = []
    for _ in range(2):
        cached_json("thing", "source", lambda: calls.append(1) or 0)
    assert len(calls) == 2


def test_an_unwritable_folder_only_costs_the_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))  # a folder under a file cannot be made
    assert cached_json("thing", "source", lambda: 5) == 5


def test_the_pattern_analysis_read_back_is_the_one_computed(folder: Path) -> None:
    from backtriage.text.patterns import PatternSet

    patterns = [r"(?<![\w/])t\s*(?:3[89]|4[01])(?![\w])", r"saddle\s+an(?:a|ae)esthesia", r"\d+/5"]
    first, second = PatternSet(patterns), PatternSet(patterns)
    assert list(folder.glob("patterns-*.json"))
    for one in (first, second):
        assert one.everywhere == first.everywhere and one.searched == first.searched
        assert one.by_string == first.by_string and one.anywhere == first.anywhere
    assert second.may_match(0, {"38"}) and not second.may_match(0, {"37"})
