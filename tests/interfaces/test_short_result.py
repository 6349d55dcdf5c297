"""The terminal's short result: one screen at 80 columns for the built-in examples and for the
team's six stories (stories.yaml), what to do first, one way of stating chances, no raw ids."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from backtriage.interfaces.cli import app
from backtriage.knowledge.loader import load_knowledge_base

STORIES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "stories.yaml").read_text())
ONE_SCREEN = 30
runner = CliRunner(env={"COLUMNS": "80"})
KB = load_knowledge_base()
RAW_IDS = {*KB.findings, *KB.conditions, *(r.id for r in KB.rules)} - {"fever"}  # "fever" is a word too


def _lines(args: list[str]) -> list[str]:
    result = runner.invoke(app, ["assess", *args])
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def _check_screen(lines: list[str]) -> None:
    out = "\n".join(lines)
    assert len(lines) <= ONE_SCREEN, out
    assert max(len(line) for line in lines) <= 80, out
    assert "%" not in out, out  # chances are "about 3 in 10", nowhere a percentage
    assert not RAW_IDS & set(re.findall(r"[a-z0-9]+(?:_[a-z0-9]+)+", out)), out
    assert "--explain" in out  # the way to the detail is named


@pytest.mark.parametrize("name", ["cauda-equina", "posture", "sciatica", "stenosis"])
def test_each_built_in_example_fits_one_screen(name: str) -> None:
    _check_screen(_lines(["--example", name]))


@pytest.mark.parametrize("story", STORIES, ids=[s["id"] for s in STORIES])
def test_each_story_fits_one_screen_and_leads_with_the_outcome(story: dict[str, Any]) -> None:
    lines = _lines([story["text"]])
    _check_screen(lines)
    assert story["urgency"].upper() in lines[0]  # the outcome is the first line
    if story["urgency"] == "emergency":
        assert "999" in "\n".join(lines[:4])  # and the number to call within the first four
        assert "Warning signs not asked about yet" not in "\n".join(lines)  # only "get help"


def test_open_warning_signs_are_named_with_the_command_that_asks_them() -> None:
    posture = next(s for s in STORIES if s["id"] == "posture")
    out = " ".join(" ".join(_lines([posture["text"]])).split())  # wrapped lines rejoined
    assert "Warning signs not asked about yet" in out
    assert out.index("numb between the legs") < out.index("What might be causing it")
    assert "run: backtriage interview" in out
    full = runner.invoke(app, ["assess", posture["text"], "--explain"]).stdout
    assert "Is there numbness, tingling or reduced feeling between your legs" in full  # the questions


def test_a_possible_emergency_outside_the_back_gets_no_home_treatment_advice() -> None:
    out = "\n".join(_lines(["lower back pain and I have noticed loss of blood"]))
    assert "URGENT" in out
    assert "ibuprofen" not in out and "What to do" not in out
