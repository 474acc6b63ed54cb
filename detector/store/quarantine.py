"""Records the pipeline set aside, and how far behind it is. Functions never commit:
quarantined records are written in the checkpoint that marks their segments
processed (``PipelineRunner._checkpoint``)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, exists, func, insert, select

from detector.store.models import Segment
from detector.store.pipeline_models import PipelineStateRow, ProcessedSegmentRow, QuarantineRow

# Longest error text kept: the exception's first lines say what broke.
_ERROR_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A record (``line`` of its segment) or a whole segment (``line`` None) that a
    pipeline step failed on, with the stage that failed and the error."""

    segment_id: int
    line: int | None
    record_count: int
    stage: str
    error: str
    event_id: str | None = None
    payload: bytes | None = None


def quarantine(conn: Connection, *, items: Sequence[Quarantined]) -> None:
    if not items:
        return
    now = datetime.now(UTC)
    conn.execute(
        insert(QuarantineRow),
        [
            {
                "segment_id": item.segment_id,
                "line": item.line,
                "record_count": item.record_count,
                "event_id": item.event_id,
                "stage": item.stage,
                "error": item.error[:_ERROR_CHARS],
                "payload": item.payload,
                "quarantined_at": now,
            }
            for item in items
        ],
    )


def quarantined_records(conn: Connection) -> int:
    return int(
        conn.execute(select(func.coalesce(func.sum(QuarantineRow.record_count), 0))).scalar_one()
    )


@dataclass(frozen=True, slots=True)
class Progress:
    """How far behind the pipeline is, read from the store (any process)."""

    backlog_segments: int
    backlog_records: int
    # Wall-clock seconds since the oldest segment not yet processed was received.
    backlog_seconds: float
    # Wall-clock seconds since the last checkpoint; None before the first.
    since_progress: float | None
    stall_seconds: float

    @property
    def stalled(self) -> bool:
        """Work has waited longer than ``stall_seconds`` and no checkpoint was written
        for as long: the pipeline is not running, or fails on every attempt."""
        if not self.backlog_segments or self.backlog_seconds <= self.stall_seconds:
            return False
        return self.since_progress is None or self.since_progress > self.stall_seconds

    def reason(self) -> str:
        last = (
            "never checkpointed"
            if self.since_progress is None
            else f"last checkpoint {self.since_progress:.0f} s ago"
        )
        return (
            f"{self.backlog_records} records in {self.backlog_segments} segments pending "
            f"for {self.backlog_seconds:.0f} s, {last} (stalled after "
            f"{self.stall_seconds:.0f} s: DETECTOR_PIPELINE_STALL_SECONDS)"
        )


def _age(at: datetime | None, now: float) -> float | None:
    if at is None:
        return None
    # SQLite hands back naive datetimes; the store writes UTC.
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return max(0.0, now - aware.timestamp())


def progress(conn: Connection, *, stall_seconds: float, now: float | None = None) -> Progress:
    now = time.time() if now is None else now
    done = exists().where(ProcessedSegmentRow.segment_id == Segment.id)
    segments, records, oldest = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Segment.record_count), 0),
            func.min(Segment.received_at),
        ).where(Segment.payload.is_not(None), ~done)
    ).one()
    updated = conn.execute(select(func.max(PipelineStateRow.updated_at))).scalar()
    return Progress(
        backlog_segments=int(segments),
        backlog_records=int(records),
        backlog_seconds=_age(oldest, now) or 0.0,
        since_progress=_age(updated, now),
        stall_seconds=stall_seconds,
    )
