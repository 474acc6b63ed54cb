"""The event log: accepted records as compressed NDJSON segments, deduplicated by key.

Why segments and not a row per record: at 40M+ records a row per record costs
hundreds of bytes and a B-tree insert per column index, while a compressed segment
of a few thousand similar records costs well under a hundred bytes a record, and the
pipeline reads segments with polars' parallel NDJSON reader. See docs/architecture.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec
import orjson
import zstandard
from sqlalchemy import Connection, func, insert, select, text

from detector.schema import Record
from detector.store.models import Segment

ENCODING = "ndjson+zstd"
# Level 3 is zstd's default: ~4x faster to write than level 9 for ~10% more bytes
# (benchmarks/ingest.py prints the bytes per record).
_LEVEL = 3
_encoder = msgspec.json.Encoder()


def event_key(event_id: str) -> int:
    """A signed 64-bit BLAKE2b of ``event_id``: the deduplication key.

    With 64 bits, the chance that any two of 40M distinct ids collide is about 4e-5.
    """
    digest = hashlib.blake2b(event_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


@dataclass(frozen=True, slots=True)
class Appended:
    accepted: int
    duplicates: int


def append_records(
    conn: Connection, *, records: Sequence[Record], rejected: int = 0
) -> tuple[Appended, list[bool]]:
    """Append the records not seen before; returns counts and which ones were new.

    Runs inside the caller's transaction, which must hold the write lock (SQLite) so
    that the check for known keys and the insert of new ones cannot interleave.
    """
    keys = [event_key(record.event_id) for record in records]
    first: dict[int, int] = {}
    for index, key in enumerate(keys):
        first.setdefault(key, index)
    # Sorted, so that concurrent batches sharing keys lock them in one order: in
    # arrival order, two retries of overlapping batches deadlock on PostgreSQL.
    new_keys = _insert_new_keys(conn, keys=sorted(first))
    is_new = [first[key] == index and key in new_keys for index, key in enumerate(keys)]
    fresh = [record for record, new in zip(records, is_new, strict=True) if new]
    duplicates = len(records) - len(fresh)
    if fresh or rejected or duplicates:
        conn.execute(insert(Segment).values(**_segment_row(fresh, duplicates, rejected)))
    return Appended(accepted=len(fresh), duplicates=duplicates), is_new


def _insert_new_keys(conn: Connection, *, keys: list[int]) -> set[int]:
    if not keys:
        return set()
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                "INSERT INTO event_keys (key) SELECT unnest(CAST(:keys AS BIGINT[])) "
                "ON CONFLICT DO NOTHING RETURNING key"
            ),
            {"keys": keys},
        )
        return {row[0] for row in rows}
    payload = orjson.dumps(keys).decode()
    known = {
        row[0]
        for row in conn.execute(
            text("SELECT key FROM event_keys WHERE key IN (SELECT value FROM json_each(:keys))"),
            {"keys": payload},
        )
    }
    new = [key for key in keys if key not in known]
    if new:
        conn.execute(
            text("INSERT INTO event_keys (key) SELECT value FROM json_each(:keys)"),
            {"keys": orjson.dumps(new).decode()},
        )
    return set(new)


def _segment_row(records: Sequence[Record], duplicates: int, rejected: int) -> dict[str, object]:
    payload = None
    ts_min = ts_max = None
    if records:
        starts = [float(record.ts_start) for record in records]
        ts_min, ts_max = min(starts), max(starts)
        raw = _encoder.encode_lines(records)
        payload = zstandard.ZstdCompressor(level=_LEVEL).compress(raw)
    return {
        "received_at": datetime.now(UTC),
        "record_count": len(records),
        "duplicate_count": duplicates,
        "rejected_count": rejected,
        "ts_min": ts_min,
        "ts_max": ts_max,
        "encoding": ENCODING,
        "payload": payload,
    }


def decode_payload(payload: bytes) -> bytes:
    """The NDJSON bytes of a stored segment."""
    return zstandard.ZstdDecompressor().decompress(payload)


def iter_segments(
    conn: Connection, *, after_id: int = 0, batch: int = 64
) -> Iterator[tuple[int, bytes]]:
    """Segments with records, in id order, as (id, NDJSON bytes)."""
    last = after_id
    while True:
        rows = conn.execute(
            select(Segment.id, Segment.payload)
            .where(Segment.id > last, Segment.payload.is_not(None))
            .order_by(Segment.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for seg_id, payload in rows:
            last = seg_id
            if payload is not None:
                yield seg_id, decode_payload(payload)


@dataclass(frozen=True, slots=True)
class LogTotals:
    received: int
    duplicates: int
    rejected: int
    segments: int
    latest_event: float | None
    stored_bytes: int


def totals(conn: Connection) -> LogTotals:
    row = conn.execute(
        select(
            func.coalesce(func.sum(Segment.record_count), 0),
            func.coalesce(func.sum(Segment.duplicate_count), 0),
            func.coalesce(func.sum(Segment.rejected_count), 0),
            func.count(Segment.payload),
            func.max(Segment.ts_max),
            func.coalesce(func.sum(func.length(Segment.payload)), 0),
        )
    ).one()
    return LogTotals(
        received=int(row[0]),
        duplicates=int(row[1]),
        rejected=int(row[2]),
        segments=int(row[3]),
        latest_event=row[4],
        stored_bytes=int(row[5]),
    )
