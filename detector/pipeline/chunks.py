"""Chunks of the event log as the runner takes them in: read a few segments at a time
up to ``chunk_records`` records, decompressed into one reused buffer and parsed to the
narrow frame, on the reading thread (``pipeline.threads``).

A chunk that a step failed on (not for want of the store) is remembered: the step is
retried once as it was, in case the failure passes, and the chunk is then screened
(``pipeline.screen``), its failing records set aside.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import Engine as SqlEngine
from sqlalchemy.exc import SQLAlchemyError

from detector.errors import StoreUnavailableError
from detector.features.frames import RECORD_SCHEMA, narrow, read_records
from detector.pipeline.screen import screen
from detector.store import cases as store
from detector.store.event_log import decode_into
from detector.store.quarantine import Quarantined

# Segments fetched from the store in one query while a chunk is read.
_FETCH_SEGMENTS = 64


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` is the store's or the machine's, not the records': a step
    that meets one is retried as it is, and nothing is set aside for it."""
    return isinstance(error, SQLAlchemyError | StoreUnavailableError | MemoryError)


@dataclass(frozen=True, slots=True)
class Chunk:
    """Segments read from the store, as ``(segment id, records taken in)``, and their
    records parsed to the narrow frame. A chunk that a step failed on before comes
    with its ``rows`` still compressed and no records: it is screened first
    (``ChunkReader.screened``), and then carries what was set aside."""

    segments: list[tuple[int, int]]
    records: pl.DataFrame | None
    rows: list[tuple[int, int, bytes]] | None = None
    quarantined: list[Quarantined] = field(default_factory=list)

    @property
    def last_id(self) -> int:
        return self.segments[-1][0]


@dataclass
class ChunkReader:
    """Reads chunks of unprocessed segments; remembers the suspect ones."""

    db: SqlEngine
    chunk_records: int
    # The segments of a chunk are decompressed into this buffer, reused chunk after
    # chunk (``decode_into``); one chunk is read at a time.
    buffer_: io.BytesIO = field(default_factory=io.BytesIO)
    # Segments of a chunk that a step failed on, until a checkpoint covers them.
    # Added to by the reading thread and the runner's, hence the lock.
    suspects_: set[int] = field(default_factory=set)
    lock_: threading.Lock = field(default_factory=threading.Lock)

    def read(self, after: int) -> list[tuple[int, int, bytes]]:
        """Unprocessed segments after ``after`` up to ``chunk_records`` records (at
        least one segment, however large). Segments are fetched a few at a time, as
        many as the ones seen so far suggest still fit, so that large segments do not
        overshoot the limit by a whole fetch."""
        chunk: list[tuple[int, int, bytes]] = []
        total = 0
        with self.db.connect() as conn:
            while total < self.chunk_records:
                last = chunk[-1][0] if chunk else after
                mean = total / len(chunk) if chunk else float(self.chunk_records)
                fits = math.ceil((self.chunk_records - total) / max(1.0, mean))
                rows = store.unprocessed_segments(
                    conn, after_id=last, limit=max(1, min(_FETCH_SEGMENTS, fits))
                )
                if not rows:
                    break
                for row in rows:
                    if chunk and total + row[1] > self.chunk_records:
                        return chunk
                    chunk.append(row)
                    total += row[1]
        return chunk

    def load(self, after: int) -> Chunk | None:
        """The unprocessed segments after segment ``after``, up to ``chunk_records``
        records, parsed to the narrow frame; a suspect chunk comes unparsed, to be
        screened. Touches the store, not the engine."""
        rows = self.read(after)
        if not rows:
            return None
        segments = [(s, n) for s, n, _ in rows]
        with self.lock_:
            suspect = not self.suspects_.isdisjoint(s for s, _ in segments)
        if suspect:
            return Chunk(segments=segments, records=None, rows=rows)
        try:
            ndjson = decode_into([p for _, _, p in rows], self.buffer_)
            records = narrow(read_records(ndjson))
        except BaseException as error:
            self.suspect(segments, error)
            raise
        return Chunk(segments=segments, records=records)

    def suspect(self, segments: list[tuple[int, int]], error: BaseException) -> None:
        """Remember the segments of a chunk a step failed on, unless the store or the
        machine failed: the next read of them is screened."""
        if is_outage(error):
            return
        with self.lock_:
            self.suspects_.update(s for s, _ in segments)

    def covered(self, segments: Iterable[int]) -> None:
        """Forget suspects a checkpoint has covered."""
        with self.lock_:
            self.suspects_.difference_update(segments)

    @staticmethod
    def screened(chunk: Chunk, check: Callable[[pl.DataFrame], object]) -> Chunk:
        """``chunk`` with the records that fail taking in set aside (``screen``);
        ``check`` is the engine's per-record work (``Engine.probe``)."""
        assert chunk.rows is not None
        found = screen(chunk.rows, check)
        records = (
            pl.concat(found.records)
            if found.records
            else narrow(pl.DataFrame(schema=RECORD_SCHEMA))  # no record passed
        )
        return Chunk(
            segments=[(s, found.taken.get(s, 0)) for s, _ in chunk.segments],
            records=records,
            quarantined=found.quarantined,
        )
