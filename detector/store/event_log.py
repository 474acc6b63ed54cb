"""The event log: accepted records as compressed NDJSON segments, deduplicated by key.

Why segments and not a row per record: at 40M+ records a row per record costs
hundreds of bytes and a B-tree insert per column index, while a compressed segment
of a few thousand similar records costs well under a hundred bytes a record, and the
pipeline reads segments with polars' parallel NDJSON reader. See docs/architecture.md.
"""

from __future__ import annotations

import hashlib
import io
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import msgspec
import zstandard
from sqlalchemy import Connection, func, insert, select, text

from detector.schema import Record
from detector.store.models import Segment

ENCODING = "ndjson+zstd"
# Level 1: on gateway-shaped batches it was both faster and smaller than level 3
# (benchmarks/ingest.py prints the bytes per record).
_LEVEL = 1
_encoder = msgspec.json.Encoder()


def event_key(event_id: str) -> int:
    """A signed 64-bit BLAKE2b of ``event_id``; with the second of ``ts_start``, the
    deduplication key. Two distinct ids collide only if they share both the second
    and all 64 bits: at 10,000 calls in one second, about 3e-12."""
    digest = hashlib.blake2b(event_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def _keys(records: Sequence[Record]) -> list[tuple[int, int]]:
    """``(second of ts_start, event_key(event_id))`` of every record. This runs for
    every record: each hash starts as a copy of a blank one, which costs less than a
    constructor call parsing its arguments."""
    blank, from_bytes = hashlib.blake2b(digest_size=8), int.from_bytes
    keys = []
    for record in records:
        digest = blank.copy()
        digest.update(record.event_id.encode("utf-8"))
        keys.append((int(record.ts_start), from_bytes(digest.digest(), "little", signed=True)))
    return keys


@dataclass(frozen=True, slots=True)
class Appended:
    accepted: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """A batch hashed, encoded and compressed: the CPU work, done before any lock."""

    records: Sequence[Record]
    keys: list[tuple[int, int]]
    rejected: int
    segment: dict[str, object]


def prepare_batch(records: Sequence[Record], *, rejected: int = 0) -> PreparedBatch:
    """Hash and compress ``records`` as if none were a duplicate (the common case)."""
    # A retry carries the same record, so the same ts_start: the second of event
    # time narrows the key to where that record's copy would be.
    keys = _keys(records)
    return PreparedBatch(records, keys, rejected, _segment_row(records, 0, rejected))


def append_records(
    conn: Connection, *, records: Sequence[Record], rejected: int = 0
) -> tuple[Appended, list[bool]]:
    """Append the records not seen before; returns counts and which ones were new."""
    return append_prepared(conn, prepare_batch(records, rejected=rejected))


def append_prepared(conn: Connection, batch: PreparedBatch) -> tuple[Appended, list[bool]]:
    """Append the new records of a prepared batch; returns counts and which were new.

    Runs inside the caller's transaction, which must hold the write lock (SQLite) so
    that the check for known keys and the insert of new ones cannot interleave. Only
    when the batch held duplicates is its segment encoded again, for the new records.
    """
    keys = batch.keys
    first: dict[tuple[int, int], int] = {}
    for index, key in enumerate(keys):
        first.setdefault(key, index)
    # Sorted, so that concurrent batches sharing keys lock them in one order: in
    # arrival order, two retries of overlapping batches deadlock on PostgreSQL.
    known = _insert_keys(conn, keys=sorted(first))
    if not known and len(first) == len(keys):
        is_new = [True] * len(keys)
    else:
        is_new = [first[key] == index and key not in known for index, key in enumerate(keys)]
    duplicates = is_new.count(False)
    segment = batch.segment
    if duplicates:
        fresh = [record for record, new in zip(batch.records, is_new, strict=True) if new]
        segment = _segment_row(fresh, duplicates, batch.rejected)
    if keys or batch.rejected:
        conn.execute(insert(Segment).values(**segment))
    return Appended(accepted=len(keys) - duplicates, duplicates=duplicates), is_new


def stored_payload(batch: PreparedBatch, is_new: Sequence[bool]) -> bytes | None:
    """The payload ``append_prepared`` stored for ``batch`` (``is_new`` as it returned):
    the prepared one, or, when the batch held duplicates, the new records encoded
    again the same way. None when no record was new."""
    if all(is_new):
        payload = batch.segment["payload"]
        return payload if isinstance(payload, bytes) else None
    fresh = [record for record, new in zip(batch.records, is_new, strict=True) if new]
    payload = _segment_row(fresh, 0, 0)["payload"]
    return payload if isinstance(payload, bytes) else None


def _insert_keys(conn: Connection, *, keys: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Insert the distinct ``keys`` not stored yet; returns those that were."""
    if not keys:
        return set()
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                "INSERT INTO event_keys (ts, key) "
                "SELECT * FROM unnest(CAST(:ts AS BIGINT[]), CAST(:keys AS BIGINT[])) "
                "ON CONFLICT DO NOTHING RETURNING ts, key"
            ),
            {"ts": [ts for ts, _ in keys], "keys": [key for _, key in keys]},
        )
        return set(keys) - {(ts, key) for ts, key in rows}
    # Through the driver's cursor with plain parameters: fetching thousands of rows
    # through SQLAlchemy's result, or unpacking a JSON array in SQL, took longer than
    # the inserts themselves.
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    known: set[tuple[int, int]] = set()
    try:
        for start in range(0, len(keys), _ROWS_PER_INSERT):
            chunk = keys[start : start + _ROWS_PER_INSERT]
            values = [value for pair in chunk for value in pair]
            try:
                # Most batches are new: a plain insert then returns nothing, where
                # RETURNING every row cost twice the insert itself.
                cursor.execute(_sqlite_insert(len(chunk)), values)
            except sqlite3.IntegrityError:
                # SQLite has undone this statement alone; the transaction goes on.
                inserted = cursor.execute(
                    _sqlite_insert(len(chunk), returning=True), values
                ).fetchall()
                known.update(set(chunk).difference(inserted))
    finally:
        cursor.close()
    return known


# 2,500 rows are 5,000 parameters, well under SQLite's limit of 32,766.
_ROWS_PER_INSERT = 2_500


@lru_cache(maxsize=8)
def _sqlite_insert(rows: int, *, returning: bool = False) -> str:
    """The statement for ``rows`` rows: only placeholders are joined in, never values.
    Plain, it fails on a stored key; ``returning``, it skips stored keys and returns
    the rows it inserted."""
    values = ",".join(["(?,?)"] * rows)
    if returning:
        return f"INSERT OR IGNORE INTO event_keys (ts, key) VALUES {values} RETURNING ts, key"  # noqa: S608
    return f"INSERT INTO event_keys (ts, key) VALUES {values}"  # noqa: S608


def _segment_row(records: Sequence[Record], duplicates: int, rejected: int) -> dict[str, object]:
    payload = None
    ts_min = ts_max = None
    if records:
        starts = [record.ts_start for record in records]
        ts_min, ts_max = float(min(starts)), float(max(starts))
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


def decode_into(payloads: Sequence[bytes], buffer: io.BytesIO) -> io.BytesIO:
    """The NDJSON of stored segments, one after another, in ``buffer``: rewound, and
    holding those bytes alone.

    The pipeline reads hundreds of megabytes of NDJSON a minute. Decompressed into
    new byte strings and joined, every chunk took fresh pages from the kernel twice
    over (a fault per 2 KB of records, a sixth of reading's CPU time); one buffer
    reused chunk after chunk keeps its pages. Each segment is written straight into
    its place, its size read from its zstd frame header.
    """
    sizes = [zstandard.frame_content_size(payload) for payload in payloads]
    if any(size < 0 for size in sizes):
        # ``decode_payload`` cannot read such a frame either; segments carry it.
        raise ValueError("segment payload: a zstd frame without its content size")
    total = sum(sizes)
    # Grown or shrunk to ``total`` in place: CPython reallocates a BytesIO only to
    # grow it, or to shrink it below half of what it holds.
    held = buffer.seek(0, io.SEEK_END)
    if held < total:
        buffer.write(bytes(total - held))
    else:
        buffer.truncate(total)
    decompressor = zstandard.ZstdDecompressor()
    with buffer.getbuffer() as view:
        start = 0
        for payload, size in zip(payloads, sizes, strict=True):
            reader = decompressor.stream_reader(payload)
            filled = 0
            while filled < size:
                read = reader.readinto(view[start + filled : start + size])
                if read == 0:
                    raise ValueError(f"segment payload ends {size - filled} bytes short")
                filled += read
            start += size
    buffer.seek(0)
    return buffer


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
