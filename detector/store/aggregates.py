"""Stage 1's window aggregates in the store: written once per micro-batch, read in order.

Functions are keyword-only and never commit: the caller's transaction holds a batch's
aggregates and its ``stage1_batches`` row together (``detector.scaleout.sink``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, insert, select, update

from detector.store.aggregate_models import Stage1Batch, Stage2State, WindowAggregateRow


@dataclass(frozen=True, slots=True)
class Part:
    """One stored part of a window's aggregate (``WindowAggregateRow``)."""

    batch_id: int
    window_start: float | None
    part: str
    rows: int
    payload: bytes


def batch_committed(conn: Connection, *, batch_id: int) -> bool:
    found = conn.execute(select(Stage1Batch.batch_id).where(Stage1Batch.batch_id == batch_id))
    return found.first() is not None


def write_batch(
    conn: Connection, *, batch_id: int, watermark: float | None, parts: Sequence[Part]
) -> None:
    """Record ``parts`` and the batch that made them; the caller checked the batch is
    not committed yet (``batch_committed``) in the same transaction."""
    if parts:
        conn.execute(
            insert(WindowAggregateRow),
            [
                {
                    "batch_id": batch_id,
                    "window_start": p.window_start,
                    "part": p.part,
                    "rows": p.rows,
                    "payload": p.payload,
                }
                for p in parts
            ],
        )
    windows = len({p.window_start for p in parts if p.window_start is not None})
    conn.execute(
        insert(Stage1Batch).values(
            batch_id=batch_id,
            watermark=watermark,
            windows=windows,
            committed_at=datetime.now(UTC),
        )
    )


def parts_after(conn: Connection, *, after_batch: int) -> list[Part]:
    """The parts of every batch committed after ``after_batch``, in batch order."""
    rows = conn.execute(
        select(
            WindowAggregateRow.batch_id,
            WindowAggregateRow.window_start,
            WindowAggregateRow.part,
            WindowAggregateRow.rows,
            WindowAggregateRow.payload,
        )
        .where(WindowAggregateRow.batch_id > after_batch)
        .order_by(WindowAggregateRow.batch_id, WindowAggregateRow.id)
    ).all()
    return [Part(*row) for row in rows]


def last_batch(conn: Connection) -> tuple[int, float | None] | None:
    """The latest committed batch and its watermark, or None before the first."""
    latest = conn.execute(select(func.max(Stage1Batch.batch_id))).scalar()
    if latest is None:
        return None
    watermark = conn.execute(
        select(Stage1Batch.watermark).where(Stage1Batch.batch_id == latest)
    ).scalar()
    return int(latest), watermark


STAGE2 = "stage2"


@dataclass(frozen=True, slots=True)
class Stage2Checkpoint:
    version: int
    after_batch: int
    decisions_seen: int
    state: bytes


def load_stage2(conn: Connection) -> Stage2Checkpoint | None:
    row = conn.execute(
        select(
            Stage2State.version,
            Stage2State.after_batch,
            Stage2State.decisions_seen,
            Stage2State.state,
        ).where(Stage2State.name == STAGE2)
    ).first()
    return None if row is None else Stage2Checkpoint(*row)


def save_stage2(
    conn: Connection, *, version: int, after_batch: int, decisions_seen: int, state: bytes
) -> None:
    values = {
        "version": version,
        "after_batch": after_batch,
        "decisions_seen": decisions_seen,
        "state": state,
        "updated_at": datetime.now(UTC),
    }
    updated = conn.execute(update(Stage2State).where(Stage2State.name == STAGE2).values(**values))
    if updated.rowcount == 0:
        conn.execute(insert(Stage2State).values(name=STAGE2, **values))
