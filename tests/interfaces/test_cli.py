"""The command line, as a user meets it: output, exit codes and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from backtriage.errors import ExitCode
from backtriage.interfaces.cli import app
from backtriage.knowledge.loader import load_knowledge_base

runner = CliRunner(env={"COLUMNS": "200"})


def invoke(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=stdin)


def write(tmp_path: Path, name: str, content: object) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_cauda_equina_example_is_emergency_with_ces_first_and_rule_named(tmp_path: Path) -> None:
    answers = write(
        tmp_path,
        "a.json",
        {"saddle_anaesthesia": True, "bladder_dysfunction": True, "age": 52, "sex": "female"},
    )
    result = invoke("assess", "--answers", answers, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["urgency"] == "emergency"
    assert data["conditions"][0]["id"] == "cauda_equina_syndrome"
    assert data["conditions"][0]["icd10"] == ["G83.4"]
    assert "ces_saddle_with_sphincter" in [r["id"] for r in data["red_flags"]]
    for key in ("findings", "advice", "kb_version", "evidence_for"):
        assert key in data or key in data["conditions"][0]

    text = invoke("assess", "--answers", answers)
    assert text.exit_code == 0
    assert "EMERGENCY" in text.stdout
    assert "numb between the legs or around the bottom" in text.stdout  # the person's own words
    assert "Saddle numbness with new bladder or bowel trouble" not in text.stdout  # a rule's name
    explained = invoke("assess", "--answers", answers, "--explain")
    assert "Saddle numbness with new bladder or bowel trouble" in explained.stdout


def test_seed_posture_example_is_self_care() -> None:
    result = invoke("assess", "--example", "posture", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["urgency"] == "self_care"
    assert data["conditions"][0]["id"] == "positional_nerve_compression"
    assert data["pending_red_flags"] == []


@pytest.mark.parametrize("name", ["cauda-equina", "posture", "sciatica", "stenosis"])
def test_every_example_runs(name: str) -> None:
    assert invoke("assess", "--example", name).exit_code == 0


def test_answers_from_stdin() -> None:
    result = invoke(
        "assess", "--answers", "-", "--format", "json", stdin=json.dumps({"answers": {"foot_drop": True}})
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["urgency"] == "urgent"


def test_top_limits_conditions() -> None:
    result = invoke("assess", "--example", "sciatica", "--format", "json", "--top", "2")
    assert len(json.loads(result.stdout)["conditions"]) == 2
    result = invoke("assess", "--example", "sciatica", "--format", "json", "--top", "0")
    assert len(json.loads(result.stdout)["conditions"]) == len(load_knowledge_base().conditions)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (
            {"saddle_anesthesia": True},
            "unknown finding id 'saddle_anesthesia' (did you mean 'saddle_anaesthesia'?)",
        ),
        ("{not json", "not valid JSON (line 1 column 2"),
        ({"age": 430}, "age: Input should be less than or equal to 120"),
        ({"age": -3}, "age"),
        ({"fever": "maybe"}, "fever: answer must be true, false or null"),
        ([], "expected a JSON object"),
        ({"age_70_or_over": True}, "give 'age' instead"),
    ],
)
def test_bad_answers_give_one_line_error_and_exit_2(tmp_path: Path, content: object, fragment: str) -> None:
    path = write(tmp_path, "bad.json", content)
    result = invoke("assess", "--answers", path)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert fragment in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_file_and_conflicting_options(tmp_path: Path) -> None:
    result = invoke("assess", "--answers", str(tmp_path / "nope.json"))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "no such file" in result.stderr
    result = invoke("assess", "--example", "posture", "--answers", str(tmp_path / "x.json"))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "cannot be combined" in result.stderr
    result = invoke("assess", "--example", "nonexistent")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "choose from" in result.stderr


def test_jsonl_assesses_each_line_and_reports_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "answers": {"saddle_anaesthesia": True, "age": 40}}),
        "",
        json.dumps({"id": 2, "answers": {"posture_related": True}}),
        "{broken",
        json.dumps({"id": "c", "answers": {"not_a_finding": True}}),
        json.dumps({"answers": {"fever": True}}),
    ]
    path = write(tmp_path, "cases.jsonl", "\n".join(lines) + "\n")
    result = invoke("assess", "--jsonl", path)
    assert result.exit_code == ExitCode.SOME_CASES_FAILED
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o.get("id") for o in out] == ["a", 2, None, "c", None]
    assert out[0]["urgency"] == "emergency"
    assert out[1]["urgency"] == "routine"
    assert out[2]["line"] == 4 and "not valid JSON" in out[2]["error"]
    assert "unknown finding id 'not_a_finding'" in out[3]["error"]
    assert out[4]["error"] == "missing 'id'"
    assert "3 of 5 lines failed" in result.stderr


def test_jsonl_all_good_exits_zero(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ok.jsonl",
        "\n".join(json.dumps({"id": i, "answers": {"fever": i % 2 == 0}}) for i in range(5)),
    )
    result = invoke("assess", "--jsonl", path)
    assert result.exit_code == 0
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == list(range(5))


def test_vocabulary_listings() -> None:
    findings = json.loads(invoke("findings", "--format", "json").stdout)
    ids = {f["id"] for f in findings["findings"]}
    assert {"saddle_anaesthesia", "posture_related", "age_70_or_over"} <= ids
    conditions = json.loads(invoke("conditions", "--format", "json").stdout)
    assert conditions["conditions"][0]["icd10"]
    assert invoke("findings").exit_code == 0
    assert "Cauda equina syndrome" in invoke("conditions").stdout


def test_kb_check_passes_on_shipped_and_fails_loudly_on_broken(kb_copy: Path) -> None:
    ok = invoke("kb", "check")
    assert ok.exit_code == 0 and "ok" in ok.stdout
    rules = kb_copy / "red_flags.yaml"
    data = yaml.safe_load(rules.read_text())
    data["rules"][0]["all"] = ["saddle_anesthesia"]
    data["rules"][1]["sources"] = ["not_a_source"]
    rules.write_text(yaml.safe_dump(data))
    broken = invoke("kb", "check", str(kb_copy))
    assert broken.exit_code == ExitCode.KNOWLEDGE_BASE_INVALID
    assert "unknown finding 'saddle_anesthesia'" in broken.stderr
    assert "unknown source 'not_a_source'" in broken.stderr
    assert "Traceback" not in broken.output


def test_assess_with_broken_kb_exits_3(kb_copy: Path) -> None:
    (kb_copy / "policy.yaml").write_text("policy: [")
    result = invoke("assess", "--example", "posture", "--kb", str(kb_copy))
    assert result.exit_code == ExitCode.KNOWLEDGE_BASE_INVALID
    assert "knowledge base is invalid" in result.stderr


def test_installed_entry_point_never_shows_a_traceback(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.json", "[1, 2")
    proc = subprocess.run(
        [sys.executable, "-m", "backtriage", "assess", "--answers", bad],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == ExitCode.INVALID_INPUT
    assert "Traceback" not in proc.stderr
    assert "not valid JSON" in proc.stderr
    usage = subprocess.run(
        [sys.executable, "-m", "backtriage", "assess", "--no-such-option"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert usage.returncode == 2
    assert "Traceback" not in usage.stderr
