"""The command line with free text: assess TEXT, parse, context."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from backtriage.errors import ExitCode
from backtriage.interfaces.cli import app

runner = CliRunner(env={"COLUMNS": "200"})
CES = "I can't feel anything when I wipe and I haven't peed since last night"
POSTURE = (
    "Tingling in my low back after sitting, gone in minutes when I walk. "
    "No numbness down below, bladder and bowels normal."
)


def test_assess_text_shows_the_words_behind_each_finding() -> None:
    result = runner.invoke(app, ["assess", CES])
    assert result.exit_code == 0, result.output
    assert "EMERGENCY" in result.stdout
    assert "numb between the legs or around the bottom" in result.stdout  # in plain words
    explained = runner.invoke(app, ["assess", CES, "--explain"]).stdout  # the words read, exactly
    assert "can't feel anything when I wipe" in explained
    assert "haven't peed" in explained


def test_assess_text_json_has_spans_and_context() -> None:
    result = runner.invoke(app, ["assess", POSTURE, "--format", "json"])
    data = json.loads(result.stdout)
    assert data["urgency"] == "routine"  # a text alone rarely shows a whole harmless pattern
    saddle = next(f for f in data["findings"] if f["id"] == "saddle_anaesthesia")
    assert saddle["present"] is False and saddle["origin"] == "text"
    mention = saddle["mentions"][0]
    assert POSTURE[mention["start"] : mention["end"]] == mention["text"]
    assert mention["negated"] is True and mention["experiencer"] == "patient"
    assert data["text"]["characters"] == len(POSTURE)


def test_text_from_stdin_and_combined_with_answers(tmp_path: Path) -> None:
    result = runner.invoke(app, ["assess", "-", "--format", "json"], input=CES)
    assert json.loads(result.stdout)["urgency"] == "emergency"
    answers = tmp_path / "a.json"
    answers.write_text(json.dumps({"age": 30, "saddle_anaesthesia": True}))
    result = runner.invoke(app, ["assess", POSTURE, "--answers", str(answers), "--format", "json"])
    data = json.loads(result.stdout)
    assert data["urgency"] == "emergency"  # the explicit answer wins over the text
    assert next(f for f in data["findings"] if f["id"] == "saddle_anaesthesia")["origin"] == "answer"


def test_jsonl_accepts_text_and_answers_lines(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"id": "t1", "text": CES}),
                json.dumps({"id": "t2", "text": POSTURE, "answers": {"age": 40}}),
                json.dumps({"id": "a1", "answers": {"foot_drop": True}}),
                json.dumps({"id": "bad", "text": 42}),
            ]
        )
        + "\n"
    )
    result = runner.invoke(app, ["assess", "--jsonl", str(path)])
    assert result.exit_code == ExitCode.SOME_CASES_FAILED
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["id"], o.get("urgency")) for o in out] == [
        ("t1", "emergency"),
        ("t2", "routine"),
        ("a1", "urgent"),
        ("bad", None),
    ]
    assert out[3]["error"] == "'text' must be a string"


def test_parse_json_and_text() -> None:
    result = runner.invoke(app, ["parse", "Pt denies saddle anaesthesia. 45M.", "--format", "json"])
    data = json.loads(result.stdout)
    assert data["answers"] == {"saddle_anaesthesia": False}
    assert data["age"] == 45 and data["sex"] == "male"
    assert data["mentions"][0]["counted_as"] == "absent"
    shown = runner.invoke(app, ["parse", "numb bum and my dad had foot drop"])
    assert shown.exit_code == 0
    assert "about a relative" in shown.stdout


def test_context_single_and_jsonl(tmp_path: Path) -> None:
    one = runner.invoke(app, ["context", "Concern for cauda equina.", "--target", "cauda equina"])
    assert json.loads(one.stdout)["uncertain"] is True
    path = tmp_path / "ctx.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"id": 1, "sentence": "No fever.", "target": "fever"}),
                json.dumps({"id": 2, "sentence": "My dad had MS.", "target": "MS"}),
                json.dumps({"id": 3, "sentence": "No fever.", "target": "rash"}),
            ]
        )
        + "\n"
    )
    many = runner.invoke(app, ["context", "--jsonl", str(path)])
    assert many.exit_code == ExitCode.SOME_CASES_FAILED
    out = [json.loads(line) for line in many.stdout.splitlines()]
    assert out[0] == {
        "id": 1,
        "negated": True,
        "uncertain": False,
        "historical": False,
        "hypothetical": False,
        "experiencer": "patient",
        "section": None,
    }
    assert out[1]["experiencer"] == "family"
    assert "does not occur" in out[2]["error"]


def test_text_errors_are_one_line() -> None:
    big = runner.invoke(app, ["assess", "x" * 100_001])
    assert big.exit_code == ExitCode.INVALID_INPUT
    assert "limit is 100,000" in big.stderr
    missing = runner.invoke(app, ["context", "No fever."])
    assert missing.exit_code == ExitCode.INVALID_INPUT
    both = runner.invoke(app, ["assess", "text", "--example", "posture"])
    assert both.exit_code == ExitCode.INVALID_INPUT
    binary = runner.invoke(app, ["assess", "-", "--format", "json"], input=b"\xff\xfe\x00junk")
    assert binary.exit_code == ExitCode.INVALID_INPUT
    assert "not UTF-8" in binary.stderr


def test_jsonl_with_worker_processes_keeps_order_and_errors(tmp_path: Path) -> None:
    lines = []
    for i in range(40):
        if i == 17:
            lines.append("{not json")
        else:
            lines.append(json.dumps({"id": i, "text": CES if i % 2 else POSTURE}))
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["assess", "--jsonl", str(path), "--workers", "2"])
    assert result.exit_code == ExitCode.SOME_CASES_FAILED
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 40
    assert [o.get("id") for o in out[:17]] == list(range(17))
    assert out[17] == {"id": None, "line": 18, "error": out[17]["error"]}
    assert [o["urgency"] for o in out[18:20]] == ["routine", "emergency"]


def test_a_text_only_result_names_the_red_flag_questions_it_could_not_ask_before_the_causes() -> None:
    result = runner.invoke(app, ["assess", "My lower back goes tingly when I sit at my desk"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Warning signs not asked about yet" in out
    assert out.index("between the legs") < out.index("What might be causing it")
    assert "run: backtriage interview" in out
    # a text that answers the screen leaves nothing open, and an emergency says only "get help"
    assert "Warning signs not asked about yet" not in runner.invoke(app, ["assess", POSTURE]).stdout
    assert "Warning signs not asked about yet" not in runner.invoke(app, ["assess", CES]).stdout
