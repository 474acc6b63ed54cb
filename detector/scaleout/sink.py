"""Stage 1's sink: each micro-batch's window aggregates into the store, exactly once.

``foreachBatch`` runs this on the driver. Spark may run a batch again after a
failure (same id, same input): the batch's row is written in the transaction that
writes its aggregates, and a batch already recorded writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema
from sqlalchemy import Engine

from detector.scaleout.frames import AGGREGATE_SCHEMA, aggregate_group, concat_parts, to_ipc
from detector.store.aggregates import Part, batch_committed, write_batch
from detector.store.db import write_transaction


def combine(table: pa.Table, batch_id: int) -> list[Part]:
    """The buckets' parts of each window and part, concatenated."""
    grouped: dict[tuple[float, str], list[bytes]] = {}
    for start, part, rows, payload in zip(
        *(table.column(name).to_pylist() for name in AGGREGATE_SCHEMA.names), strict=True
    ):
        if rows:
            grouped.setdefault((start, part), []).append(payload)
    parts = []
    for (start, part), payloads in sorted(grouped.items()):
        frame = concat_parts(payloads)
        parts.append(Part(batch_id, start, part, frame.height, to_ipc(frame)))
    return parts


@dataclass
class Sink:
    """The ``foreachBatch`` function: closed windows aggregated by ``applyInArrow``
    over buckets of accounts (``frames.aggregate_group``), records behind the
    watermark as they are, then one transaction per batch id."""

    db: Engine
    buckets: int
    committed: list[int] = field(default_factory=list)

    def __call__(self, held: DataFrame, batch_id: int) -> None:
        with self.db.connect() as conn:
            if batch_committed(conn, batch_id=batch_id):
                return
        # Three actions read the batch: held once, not worked out thrice.
        held = held.persist()
        try:
            aggregated, mark = self._aggregate(held.filter(~F.col("behind")), held)
            behind = held.filter(F.col("behind")).select("payload").toArrow()
        finally:
            held.unpersist()
        parts = combine(aggregated, batch_id)
        if behind.num_rows:
            frame = concat_parts(behind.column("payload").to_pylist())
            parts.append(Part(batch_id, None, "behind", frame.height, to_ipc(frame)))
        with write_transaction(self.db) as conn:
            if batch_committed(conn, batch_id=batch_id):
                return
            write_batch(conn, batch_id=batch_id, watermark=mark, parts=parts)
        self.committed.append(batch_id)

    def _aggregate(self, closed: DataFrame, held: DataFrame) -> tuple[pa.Table, float | None]:
        bucket = F.pmod(F.xxhash64("account_id"), F.lit(self.buckets)).alias("_bucket")
        aggregated = (
            closed.select(bucket, "window_start", "payload")
            .groupBy("_bucket")
            .applyInArrow(aggregate_group, from_arrow_schema(AGGREGATE_SCHEMA))
            .toArrow()
        )
        watermark = held.agg(F.max("watermark")).first()
        mark = None if watermark is None or watermark[0] is None else float(watermark[0])
        return aggregated, mark
