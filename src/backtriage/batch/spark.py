"""The Spark engine: the same per-batch function as the embedded engine, run by `mapInArrow` on
Apache Spark, in local mode or on the cluster `--master` names. Each Python worker loads the
reader once (on its first batch) and keeps it for the batches that follow.

PySpark is an extra (`pip install ".[spark]"`, with Java 17); this module is imported only when
`--engine spark` is asked for. The notes are read by the same sources as the embedded engine
(so the same rows come out, bad records included), staged as Parquet with their input order,
screened by Spark, and joined in that order by DuckDB.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from backtriage.batch.embedded import RunSummary, finish_from
from backtriage.batch.output import cannot_write
from backtriage.batch.schema import SLIM_SCHEMA
from backtriage.batch.sources import NoteSource
from backtriage.errors import InvalidInputError

__all__ = ["run_spark"]

#: Spark's names for the Arrow types of the rows.
_SPARK_TYPES = {
    pa.string(): "string",
    pa.bool_(): "boolean",
    pa.int64(): "long",
    pa.list_(pa.string()): "array<string>",
}


def _ddl(schema: pa.Schema) -> str:
    """The rows' schema in Spark's words, from the one schema every engine writes."""
    return ", ".join(f"{f.name} {_SPARK_TYPES[f.type]}" for f in schema)


_ROWS = _ddl(SLIM_SCHEMA)
#: Tasks per core: with one, the core given the longer notes finishes last while the other waits.
TASKS_PER_CORE = 4


def _screen_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    from backtriage.batch.screen import screen_batch

    for batch in batches:
        rows = screen_batch(batch.select(["id", "text", "error"]))
        yield rows.append_column("seq", batch.column("seq"))


def run_spark(source: NoteSource, output: Path, master: str, batch_size: int) -> RunSummary:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InvalidInputError("--engine spark needs PySpark: pip install 'backtriage[spark]'") from None
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers run this interpreter
    staging = Path(tempfile.mkdtemp(prefix="backtriage-screen-"))
    try:
        try:
            _stage(source, staging / "notes", batch_size)
        except OSError as exc:
            raise cannot_write(staging, exc) from None
        spark = (
            SparkSession.builder.master(master)
            .appName("backtriage screen")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch_size))
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        try:
            notes = spark.read.parquet(str(staging / "notes"))
            # a few tasks a core, so the cores finish together (notes differ in length)
            partitions = max(spark.sparkContext.defaultParallelism, 1) * TASKS_PER_CORE
            screened = notes.repartition(partitions).mapInArrow(_screen_partition, _ROWS + ", seq long")
            screened.write.mode("overwrite").parquet(str(staging / "rows"))
        finally:
            spark.stop()
        return finish_from(sorted((staging / "rows").glob("*.parquet")), output, order_by="seq")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _stage(source: NoteSource, folder: Path, batch_size: int) -> None:
    """The notes as Parquet files with their place in the input (`seq`)."""
    folder.mkdir(parents=True)
    seq = 0
    for n, batch in enumerate(source.batches(max(batch_size, 1000))):
        numbers = pa.array(range(seq, seq + batch.num_rows), type=pa.int64())
        pq.write_table(
            pa.Table.from_batches([batch.append_column("seq", numbers)]), folder / f"{n:06d}.parquet"
        )
        seq += batch.num_rows
