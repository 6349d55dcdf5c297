"""Terminal interview, API keys and audit commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backtriage.domain.case import Case
from backtriage.errors import ExitCode
from backtriage.interfaces.cli import app
from backtriage.knowledge.loader import load_knowledge_base

runner = CliRunner(env={"COLUMNS": "200"})


def db(tmp_path: Path) -> list[str]:
    return ["--database-url", f"sqlite:///{tmp_path / 'cli.db'}"]


def test_terminal_interview_reaches_an_emergency_and_can_be_exported(tmp_path: Path) -> None:
    # description, then the red-flag checklist: options 1 and 2 (saddle, bladder)
    result = runner.invoke(
        app, ["interview", "--age", "45", *db(tmp_path)], input="my back hurts and tingles\n1,2\n"
    )
    assert result.exit_code == 0, result.output
    assert "EMERGENCY" in result.stdout
    exported = runner.invoke(app, ["audit", "export", *db(tmp_path)])
    records = [json.loads(line) for line in exported.stdout.splitlines()]
    assert records[0]["result"]["urgency"] == "emergency"
    assert records[0]["text"] == "my back hurts and tingles"


def test_interview_can_be_resumed(tmp_path: Path) -> None:
    started = runner.invoke(app, ["interview", *db(tmp_path)], input="\n")  # EOF mid-interview
    assert started.exit_code != 0
    interview_id = started.stdout.split("Interview ")[1].split(" ")[0]
    resumed = runner.invoke(app, ["interview", "--resume", interview_id, *db(tmp_path)], input="1,2\n")
    assert resumed.exit_code == 0, resumed.output
    assert "EMERGENCY" in resumed.stdout
    missing = runner.invoke(app, ["interview", "--resume", "nope", *db(tmp_path)])
    assert missing.exit_code == ExitCode.INVALID_INPUT and "no interview" in missing.stderr


def test_api_key_lifecycle(tmp_path: Path) -> None:
    created = runner.invoke(app, ["apikey", "create", "front desk", *db(tmp_path)])
    assert created.exit_code == 0
    key_id = created.stdout.split("id: ")[1].split()[0]
    secret = created.stdout.split("key: ")[1].split()[0]
    listed = runner.invoke(app, ["apikey", "list", *db(tmp_path)]).stdout
    assert key_id in listed and "front desk" in listed and secret not in listed
    assert runner.invoke(app, ["apikey", "revoke", key_id, *db(tmp_path)]).exit_code == 0
    assert "revoked" in runner.invoke(app, ["apikey", "list", *db(tmp_path)]).stdout
    assert runner.invoke(app, ["apikey", "revoke", "nope", *db(tmp_path)]).exit_code == 2


def test_audit_purge(tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit", "purge", "--older-than", "30", *db(tmp_path)])
    assert result.exit_code == 0 and "deleted 0 records" in result.stdout


def test_bad_input_gets_exit_code_2_never_the_bug_code(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 3000 + "]" * 3000)
    r = runner.invoke(app, ["assess", "--answers", str(deep)])
    assert r.exit_code == ExitCode.INVALID_INPUT and "nested too deeply" in r.output

    batch = tmp_path / "batch.jsonl"
    batch.write_text(
        '{"id": 1, "answers": {"fever": true}}\n' + "[" * 3000 + "]" * 3000 + '\n{"id": 3, "answers": {}}\n'
    )
    r = runner.invoke(app, ["assess", "--jsonl", str(batch)])
    assert r.exit_code == ExitCode.SOME_CASES_FAILED
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [x.get("id") for x in lines] == [1, None, 3] and "nested too deeply" in lines[1]["error"]

    r = runner.invoke(
        app, ["audit", "export", "-o", str(tmp_path / "no" / "such" / "dir.jsonl"), *db(tmp_path)]
    )
    assert r.exit_code == ExitCode.INVALID_INPUT and "cannot write" in r.output
    r = runner.invoke(app, ["audit", "export", "--database-url", "nonsense://x"])
    assert r.exit_code == ExitCode.INVALID_INPUT and "cannot open the audit store" in r.output

    r = runner.invoke(app, ["interview", *db(tmp_path)], input="")
    assert r.exit_code == ExitCode.INVALID_INPUT and "input ended" in r.output


def test_the_terminal_leads_with_the_outcome_and_the_action(tmp_path: Path) -> None:
    result = runner.invoke(app, ["assess", "--example", "posture"], env={"COLUMNS": "80"})
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert "You can look after this at home" in "\n".join(lines[:3])  # on the first screen
    assert "look after at home" in "\n".join(lines[:6])  # the action too
    assert "Pressure on a nerve from posture: more than 9 in 10" in result.stdout  # plain names
    assert "%" not in result.stdout  # one way of stating probability


def test_the_terminal_interview_takes_yes_and_no_as_words(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from backtriage.domain.interview import Question, QuestionReason, WhyAsked
    from backtriage.interfaces.render import render_question

    why = QuestionReason(kind=WhyAsked.SAFETY_SCREEN)
    question = Question(id="fever", kind="yes_no", text="Fever?", finding="fever", why=why)
    console = Console(file=io.StringIO())
    for words, expected in (("Yes", True), ("nope", False), ("not sure", None), ("y", True)):
        replies = iter(["maybe", "", words])
        monkeypatch.setattr(console, "input", lambda *a, r=replies, **k: next(r))
        assert render_question(console, load_knowledge_base(), question) == {"fever": expected}
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert shown.count("Please type yes, no or ?.") == 8  # "maybe" and Enter alone answer nothing
    assert "Why we ask: This is a warning sign" in shown


def test_a_terminal_checklist_takes_numbers_0_for_none_and_question_mark_for_not_sure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from rich.console import Console

    from backtriage.interfaces.render import render_question
    from backtriage.reasoning.engine import Engine
    from backtriage.reasoning.interview import Interviewer

    kb = load_knowledge_base()
    first = Interviewer(Engine(kb)).step(Case(answers={})).question
    assert first is not None and first.none_of_these
    findings = [o.finding for o in first.options if o.finding]
    console = Console(file=io.StringIO(), width=80)
    for replies, expected in (
        (["", "1,3"], {findings[0]: True, findings[2]: True}),
        (["0"], dict.fromkeys(findings, False)),
        (["?"], {}),  # not sure: nothing recorded, so each is asked on its own
        (["99", "x", "2"], {findings[1]: True}),
    ):
        it = iter(replies)
        monkeypatch.setattr(console, "input", lambda *a, r=it, **k: next(r))
        assert render_question(console, kb, first) == expected
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    from backtriage.interfaces.presentation.terminal import question_prompt

    assert "0 if none of them apply" in question_prompt(first, "").ask and "Enter" not in shown
    assert "Why we ask: Any of these can be a sign of an emergency" in shown
