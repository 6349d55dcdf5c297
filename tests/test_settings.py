"""Settings mean what they say: one declared type per variable, booleans as people write them,
and a bad value is a clear error naming the variable (exit 2), never a crash."""

from __future__ import annotations

import subprocess
import sys

import pytest

from backtriage.errors import InvalidInputError
from backtriage.settings import Settings


@pytest.mark.parametrize(
    ("written", "meaning"),
    [("off", False), ("no", False), ("false", False), ("0", False), ("On", True), ("yes", True), ("1", True)],
)
def test_booleans_take_what_people_write(
    monkeypatch: pytest.MonkeyPatch, written: str, meaning: bool
) -> None:
    monkeypatch.setenv("BACKTRIAGE_STORE_TEXT", written)
    monkeypatch.setenv("BACKTRIAGE_REQUIRE_API_KEY", written)
    settings = Settings.from_env()
    assert settings.store_text is meaning and settings.require_api_key is meaning


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BACKTRIAGE_RETENTION_DAYS", "abc"),
        ("BACKTRIAGE_RATE_LIMIT", "1e3"),
        ("BACKTRIAGE_WORK_THREADS", "abc"),
        ("BACKTRIAGE_READ_TIMEOUT", "-1"),
        ("BACKTRIAGE_STORE_TEXT", "maybe"),
        ("BACKTRIAGE_EMERGENCY_NUMBER", "call someone"),
        ("BACKTRIAGE_MAX_BODY_BYTES", "10"),
    ],
)
def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(InvalidInputError, match=f"^{variable}: "):
        Settings.from_env()


def test_the_names_in_the_environment_and_in_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKTRIAGE_RATE_LIMIT", "42")
    monkeypatch.setenv("BACKTRIAGE_READ_TIMEOUT", "2.5")
    monkeypatch.setenv("BACKTRIAGE_CORS_ORIGINS", "https://a.example, https://b.example,")
    monkeypatch.setenv("BACKTRIAGE_RETENTION_DAYS", "")  # empty means the default
    settings = Settings.from_env(work_threads=3)
    assert settings.rate_limit_per_minute == 42 and settings.read_timeout_seconds == 2.5
    assert settings.work_threads == 3
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.retention_days == 365
    assert Settings(rate_limit_per_minute=7, read_timeout_seconds=1).rate_limit_per_minute == 7


def test_the_command_line_exits_2_with_the_variable_named() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "backtriage.interfaces.cli", "assess", "tingly back"],
        env={"BACKTRIAGE_RETENTION_DAYS": "abc", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr[-500:]
    assert "BACKTRIAGE_RETENTION_DAYS" in result.stderr and "Traceback" not in result.stderr
