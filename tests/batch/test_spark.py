"""The Spark engine in local mode gives the same rows as the embedded engine.

Skipped without PySpark or Java, except in CI (`CI=true`), where `.ci/run` installs Java and a
missing engine is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from backtriage.interfaces.cli import app

if shutil.which("java") is None or not __import__("importlib").util.find_spec("pyspark"):
    if os.environ.get("CI"):
        raise RuntimeError("CI needs Java and PySpark for the Spark tests")
    pytest.skip("Spark needs Java and PySpark (pip install '.[spark]')", allow_module_level=True)

runner = CliRunner()


def test_spark_local_mode_gives_the_embedded_rows(tmp_path: Path) -> None:
    notes = tmp_path / "notes.jsonl"
    texts = [
        "Cannot feel the paper when wiping, retention since today. Plan: analgesia, physio.",
        "LBP 2 weeks. Denies saddle anaesthesia, BNO, PU normal. Plan: naproxen, physio.",
        "Breast ca 2019. New thoracic back pain. Plan: urgent MRI requested.",
    ]
    lines = [json.dumps({"id": f"n{i}", "text": texts[i % 3]}) for i in range(30)] + ["{broken"]
    notes.write_text("\n".join(lines) + "\n")
    embedded, spark = tmp_path / "embedded.parquet", tmp_path / "spark.parquet"
    first = runner.invoke(app, ["screen", str(notes), "-o", str(embedded), "--workers", "1"])
    second = runner.invoke(
        app, ["screen", str(notes), "-o", str(spark), "--engine", "spark", "--master", "local[2]"]
    )
    assert first.exit_code == second.exit_code == 4, second.output  # the broken line, kept
    rows = [duckdb.sql(f"SELECT * FROM read_parquet('{p}')").fetchall() for p in (embedded, spark)]
    assert rows[0] == rows[1] and len(rows[0]) == 31
