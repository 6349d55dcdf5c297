"""`backtriage assess` on one line about each emergency beyond the back: it says emergency, that
this may not be a back problem, what to do now (with the configured number) and the suspected
cause. The lines are the team's own, written from the emergency-net notes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from backtriage.interfaces.cli import app
from backtriage.reasoning.engine import default_engine

ONE_LINERS = [
    ("stroke_tia", "my face has dropped on one side and my words are coming out slurred"),
    ("acute_coronary_syndrome", "crushing pain in my chest going down my left arm, im sweating"),
    ("aortic_dissection", "sudden tearing pain through to my back between the shoulder blades"),
    ("aortic_dissection", "bad pain in my lower back and tummy and then I collapsed"),
    ("head_or_neck_injury", "dived into the shallow end and hit my head, now my arms are tingling"),
    (
        "guillain_barre_syndrome",
        "tingling started in both feet after a tummy bug and now my legs are weaker each day",
    ),
    ("spinal_cord_infarction", "suddenly numb from the waist down and both legs went weak"),
    ("acute_limb_ischaemia", "my left foot has gone cold and white and numb and it really hurts"),
    ("sepsis", "high fever and shivering, she is confused and her skin is blotchy"),
    ("spinal_infection", "i inject heroin and my back is agony, hot and shivery"),
    ("hypoglycaemia", "type 1 diabetic, shaky and sweaty and my lips are tingling"),
    (
        "hypocalcaemia",
        "thyroid operation last week, now pins and needles round my lips and my hands are cramping",
    ),
]
NOT_BACK = {cid for cid, c in default_engine().kb.conditions.items() if c.scope == "not_back"}


@pytest.mark.parametrize(
    ("cause", "line"), ONE_LINERS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(ONE_LINERS)]
)
def test_one_line_about_an_emergency_is_an_emergency_naming_the_cause(cause: str, line: str) -> None:
    runner = CliRunner(env={"COLUMNS": "200", "BACKTRIAGE_EMERGENCY_NUMBER": "112"})
    result = runner.invoke(app, ["assess", line, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["urgency"] == "emergency", [m["finding"] for m in data["text"]["mentions"]]
    assert cause in data["suspected"], data["suspected"]
    advice = " ".join(a["text"] for a in data["advice"])
    assert "112" in advice and "999" not in advice
    if cause in NOT_BACK:
        assert data["scope"] in ("not_back", "possibly_not_back")
        assert cause in data["outside_back"], data["outside_back"]


def test_the_terminal_shows_the_scope_and_the_number_first() -> None:
    runner = CliRunner(env={"COLUMNS": "200", "BACKTRIAGE_EMERGENCY_NUMBER": "911"})
    result = runner.invoke(app, ["assess", ONE_LINERS[0][1]])
    head = result.stdout[: result.stdout.index("What might be causing it")]
    assert "This may not be a back problem" in head and "call 911 now" in head
    assert "a stroke or mini-stroke" in head
