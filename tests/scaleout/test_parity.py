"""Spark stage 1 and stage 2 against the embedded engine: the same window aggregates,
the same late corrections and the same cases, from the same files, including records
that arrive out of order and records that arrive after their window closed.

Runs Spark in ``local[2]``: it needs Java (``JAVA_HOME`` or a Java 17 under
/usr/lib/jvm), and fails, never skips, without it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import zstandard
from polars.testing import assert_frame_equal
from sqlalchemy import Engine

from detector.config import Settings
from detector.features.frames import narrow, read_records
from detector.features.windows import WindowAggregate
from detector.ingest.service import Ingestor
from detector.pipeline.cases import CaseUpdate
from detector.pipeline.clock import Closing, EventClock
from detector.pipeline.engine import Engine as PipelineEngine
from detector.pipeline.engine import EngineConfig
from detector.scaleout.spark import session
from detector.scaleout.stage1 import Job, run
from detector.scaleout.stage2 import Feeder, Stage2, read_meta
from detector.scoring.scorer import ClusterScorer
from tests.pipeline.conftest import ndjson
from tests.pipeline.traffic import make_traffic

# Files a micro-batch reads: each costs seconds of Spark's own work, whatever it holds.
PER_TRIGGER = 3


class Recording(EventClock):
    """The engine's clock, keeping every aggregate the engine merges: closed windows
    and corrections."""

    seen: list[tuple[str, WindowAggregate]]

    def close(self, window: Closing) -> float | None:
        self.seen.append(("window", window.aggregate.result()))
        return super().close(window)

    def _corrections(self) -> list[WindowAggregate]:
        made = super()._corrections()
        self.seen += [("correction", aggregate) for aggregate in made]
        return made


def recording(config: EngineConfig) -> tuple[PipelineEngine, Recording]:
    """An engine, and its clock that records what it merges."""
    engine = PipelineEngine(config=config, scorer=ClusterScorer(threshold=config.threshold))
    clock = Recording(config=config)
    clock.seen = []
    engine.clock = clock
    return engine, clock


def arrival(batches: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """The batches in the order they are sent: one held back past the lateness (its
    records are late corrections), and one whose halves come in reverse order
    (out of order, within the lateness)."""
    order = list(batches)
    held = order.pop(1)
    order.insert(4, held)
    half = len(order[5]) // 2
    order[5:6] = [order[5][half:], order[5][:half]]
    return order


def frames(aggregate: WindowAggregate) -> list[pl.DataFrame]:
    return [
        aggregate.accounts.sort("account_id"),
        aggregate.keys.sort("account_id", "kind", "value"),
        aggregate.minutes.sort("account_id", "minute"),
    ]


def last_updates(updates: list[CaseUpdate]) -> pl.DataFrame:
    latest = {u.case_id: u for u in updates}
    return pl.DataFrame(
        [
            {
                "case_id": u.case_id,
                "accounts": ",".join(sorted(u.account_records)),
                "opened_at": u.opened_at,
                "event_time": u.event_time,
                "score": u.score,
                "record_count": u.record_count,
                "reasons": "; ".join(u.reasons),
            }
            for u in latest.values()
        ]
    ).sort("case_id")


@pytest.mark.db
@pytest.mark.slow
# Spark's own start and its fixed work per micro-batch dominate, not the records: a
# loaded machine takes several times what an idle one does.
@pytest.mark.timeout(900)
def test_spark_stages_match_the_embedded_engine(
    engine: Engine, make_settings: Callable[..., Settings], migrated_url: str, tmp_path: Path
) -> None:
    exported = tmp_path / "segments"
    data = make_traffic(seed=1, hours=30, honest=20, campaign=6)
    ingestor = Ingestor(engine, make_settings(segment_export_dir=exported))
    ingestor.accounts(ndjson(data.accounts), "ndjson")
    size = 1_500
    batches = [data.records[i : i + size] for i in range(0, len(data.records), size)]
    for batch in arrival(batches):
        assert ingestor.records(ndjson(batch), "ndjson").accepted == len(batch)
    files = sorted(exported.iterdir())
    assert len(files) == len(batches) + 1
    # Spark's file source takes files by modification time: the order they were sent.
    for index, path in enumerate(files):
        os.utime(path, (1_700_000_000 + index, 1_700_000_000 + index))

    config = EngineConfig()
    # As stage 2 reads it: from the store.
    meta = read_meta(engine)

    # The embedded engine, taking the files in as Spark does: a few each trigger.
    embedded, embedded_clock = recording(config)
    embedded.set_meta(meta)
    expected: list[CaseUpdate] = []
    for first in range(0, len(files), PER_TRIGGER):
        read = [
            zstandard.ZstdDecompressor().decompress(path.read_bytes())
            for path in files[first : first + PER_TRIGGER]
        ]
        embedded.add(narrow(read_records(b"\n".join(read))))
        expected += embedded.advance()
    assert embedded.late > 0, "no record arrived after its window closed: nothing was tested"

    spark = session("local[2]", partitions=2)
    try:
        job = Job(
            source=exported,
            checkpoint=tmp_path / "checkpoint",
            database_url=migrated_url,
            config=config,
            files_per_trigger=PER_TRIGGER,
        )
        run(spark, job, available_now=True)
    finally:
        spark.stop()

    distributed, distributed_clock = recording(config)
    stage2 = Stage2(engine, config, engine_=distributed, feeder_=Feeder(distributed))
    got = stage2.step()

    assert [(kind, a.start) for kind, a in distributed_clock.seen] == [
        (kind, a.start) for kind, a in embedded_clock.seen
    ]
    assert any(kind == "correction" for kind, _ in embedded_clock.seen)
    for (_, mine), (_, theirs) in zip(distributed_clock.seen, embedded_clock.seen, strict=True):
        for left, right in zip(frames(mine), frames(theirs), strict=True):
            assert_frame_equal(left, right)
    assert_frame_equal(last_updates(got), last_updates(expected))
    assert last_updates(expected).height > 0
