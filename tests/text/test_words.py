"""Word lists become regular expressions (words.py): in order, escaped, phrases spaced as asked."""

from __future__ import annotations

import re

from backtriage.text.words import once_per, words_pattern


def test_words_become_an_alternation_in_order_with_escaped_signs() -> None:
    assert words_pattern(["a/p", "a&p", "e.g"]) == r"a/p|a\&p|e\.g"


def test_a_phrase_allows_one_space_or_any_white_space() -> None:
    one, any_space = (
        re.compile(rf"(?:{words_pattern(['all of a sudden'], gap)})") for gap in ("space", "spaces")
    )
    assert one.fullmatch("all of a sudden") and not one.fullmatch("all of a\nsudden")
    assert any_space.fullmatch("all  of a\nsudden")


def test_a_final_star_stands_for_any_ending() -> None:
    chemo = re.compile(rf"\b(?:{words_pattern(['chemo*', 'ca'])})\b")
    assert chemo.search("had chemotherapy") and chemo.search("ca") and not chemo.search("cat")


def test_no_words_never_match() -> None:
    assert re.search(rf"\b(?:{words_pattern([])})\b", "any text at all") is None


def test_a_compiled_value_is_built_once_per_object() -> None:
    calls: list[int] = []

    def build(spec: list[str]) -> int:
        calls.append(1)
        return len(spec)

    compiled, spec = once_per(build), ["a", "b"]
    assert compiled(spec) == compiled(spec) == 2 and len(calls) == 1
    assert compiled(["c"]) == 1 and len(calls) == 2
