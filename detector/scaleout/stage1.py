"""Stage 1: ``python -m detector.scaleout.stage1`` (or ``detector spark-job``).

Reads the event log files (``DETECTOR_SEGMENT_EXPORT_DIR``), keys records by account,
holds them in the embedded engine's windows (``windower``), aggregates every closed
window with the engine's own polars code (``frames``), and commits each micro-batch's
aggregates to the database (``sink``). Runs until stopped, or with ``--available-now``
until every file present has been read and every window the watermark passed is
written.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import polars as pl
import pyarrow as pa
from pyspark.errors import StreamingQueryException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.streaming.query import StreamingQuery
from sqlalchemy import select

from detector.config import get_settings
from detector.features.frames import RECORD_SCHEMA
from detector.pipeline.engine import EngineConfig
from detector.scaleout.frames import narrow_batch, narrow_schema, spark_arrow
from detector.scaleout.sink import Sink
from detector.scaleout.spark import session
from detector.scaleout.windower import HELD_SCHEMA, Clock, Windower
from detector.store.db import make_engine
from detector.store.models import AccountRow

log = logging.getLogger("detector.scaleout")


@dataclass(frozen=True, slots=True)
class Job:
    """Where stage 1 reads, keeps its checkpoint and writes, and its knobs."""

    source: Path
    checkpoint: Path
    database_url: str
    config: EngineConfig = field(default_factory=EngineConfig)
    files_per_trigger: int | None = None
    trigger_seconds: float = 10.0


def gateways(database_url: str, config: EngineConfig) -> frozenset[str]:
    """Accounts whose sign-up declares them gateways, read when the job starts: an
    account declared one later counts as such once the job restarts."""
    db = make_engine(database_url)
    try:
        with db.connect() as conn:
            rows = conn.execute(
                select(AccountRow.account_id).where(
                    AccountRow.program.in_(list(config.gateway_programs))
                )
            ).scalars()
            return frozenset(rows)
    finally:
        db.dispose()


def records(spark: SparkSession, job: Job, declared: frozenset[str]) -> DataFrame:
    """The narrow records of every file in ``job.source``, with Spark's event-time
    watermark the engine's lateness behind the latest event time seen.

    The watermark is set on a column the windower never sees: Spark drops records
    behind the watermark before an operator that sees its column, and the engine
    keeps them as late corrections (``windower``)."""
    raw = from_arrow_schema(spark_arrow(pl.DataFrame(schema=RECORD_SCHEMA).to_arrow()).schema)
    reader = spark.readStream.format("json").schema(raw)
    if job.files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", job.files_per_trigger)
    narrow = from_arrow_schema(narrow_schema())
    lateness = f"{job.config.lateness_seconds} seconds"
    return (
        reader.load(str(job.source))
        .mapInArrow(partial(_narrow_all, declared=declared), narrow)
        .withColumn("_event_time", F.timestamp_seconds("ts"))
        .withWatermark("_event_time", lateness)
        # A new column, not ``ts`` itself: it carries no watermark with it.
        .select(
            *[
                (F.col("ts") + F.lit(0.0)).alias("ts") if n == "ts" else F.col(n)
                for n in narrow.names
            ]
        )
    )


def _narrow_all(
    batches: Iterator[pa.RecordBatch], *, declared: frozenset[str]
) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        yield from narrow_batch(pa.Table.from_batches([batch]), declared).to_batches()


def start(spark: SparkSession, job: Job, *, available_now: bool = False) -> StreamingQuery:
    """Start stage 1 on ``spark``; returns the running query."""
    declared = gateways(job.database_url, job.config)
    held = (
        records(spark, job, declared)
        .groupBy("account_id")
        .transformWithStateInPandas(
            Windower(Clock.of(job.config), narrow_schema()),
            HELD_SCHEMA,
            "append",
            "EventTime",
        )
    )
    partitions = int(spark.conf.get("spark.sql.shuffle.partitions") or "2")
    sink = Sink(make_engine(job.database_url), buckets=partitions)
    writer = held.writeStream.foreachBatch(sink).option("checkpointLocation", str(job.checkpoint))
    if available_now:
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=f"{job.trigger_seconds} seconds")
    return writer.start()


def run(spark: SparkSession, job: Job, *, available_now: bool, attempts: int = 3) -> None:
    """Run stage 1, started again from its checkpoint when a micro-batch fails.

    A batch run again reads the same files under the same watermark (both are in the
    checkpoint) and the sink writes a batch once, so a restart changes no result. On
    a loaded host Spark's Python workers can miss the 10 s Spark gives them to start;
    that, and any other failure, costs one attempt."""
    for attempt in range(1, attempts + 1):
        query = start(spark, job, available_now=available_now)
        try:
            query.awaitTermination()
            return
        except StreamingQueryException:
            if attempt == attempts:
                raise
            log.warning(
                "stage 1 failed (attempt %d of %d): restarting", attempt, attempts, exc_info=True
            )


def parser() -> argparse.ArgumentParser:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="detector spark-job", description=__doc__)
    parser.add_argument("--source", type=Path, default=settings.segment_export_dir)
    parser.add_argument("--checkpoint", type=Path, default=settings.data_dir / "stage1-checkpoint")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--files-per-trigger", type=int, default=None)
    parser.add_argument(
        "--available-now", action="store_true", help="read what is there, then exit"
    )
    parser.add_argument("--attempts", type=int, default=5, help="restarts from the checkpoint")
    return parser


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    arguments = parser()
    args = arguments.parse_args(argv)
    if args.source is None:
        arguments.error("--source: unset, and DETECTOR_SEGMENT_EXPORT_DIR is not set either")
    config = EngineConfig(
        window_seconds=settings.pipeline_window_seconds,
        lateness_seconds=settings.pipeline_lateness_seconds,
        tick_windows=settings.pipeline_tick_windows,
        threshold=settings.pipeline_threshold,
    )
    job = Job(
        source=args.source,
        checkpoint=args.checkpoint,
        database_url=settings.resolved_database_url,
        config=config,
        files_per_trigger=args.files_per_trigger,
    )
    spark = session(args.master, partitions=args.partitions)
    run(spark, job, available_now=args.available_now, attempts=args.attempts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
