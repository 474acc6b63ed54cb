"""Wires the pure engine to the store: reads unprocessed segments, feeds the engine,
and checkpoints its state, the segments it covers and the case updates in one
transaction. The API and the CLI use this module; nothing else touches the store on
the pipeline's behalf.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import func, select

from detector.observability.metrics import observe_window
from detector.pipeline.cases import CaseInfo, CaseUpdate
from detector.pipeline.chunks import Chunk, ChunkReader
from detector.pipeline.engine import Engine, EngineConfig
from detector.pipeline.snapshot import StaleState, library_versions
from detector.pipeline.threads import PipelineThreads
from detector.scoring.scorer import ClusterScorer
from detector.store import case_identity as identity
from detector.store import cases as store
from detector.store.accounts import signup_meta
from detector.store.campaigns import link_campaigns
from detector.store.clearing import clear_quiet_cases
from detector.store.db import write_transaction
from detector.store.event_log import totals
from detector.store.models import AccountRow
from detector.store.quarantine import Quarantined, quarantine, quarantined_records

log = logging.getLogger("detector.pipeline")

# Bumped when the checkpoint's layout changes (``pipeline.snapshot``): an old
# checkpoint is then rebuilt from the event log instead of being read into the wrong
# shape.
STATE_VERSION = 15


@dataclass
class RunStats:
    segments: int = 0
    records: int = 0
    late: int = 0
    cases_written: int = 0
    quarantined: int = 0


__all__ = ["STATE_VERSION", "PipelineRunner", "StaleState", "library_versions"]


@dataclass
class PipelineRunner:
    """Drives an ``Engine`` from the store. Thread-safe: one step at a time.

    It owns the pipeline's threads (``pipeline.threads`` says who owns what): made
    when it first steps, passed to every engine it builds or restores, and shut down
    by ``close``."""

    db: SqlEngine
    config: EngineConfig = field(default_factory=EngineConfig)
    holder: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    chunk_records: int = 250_000
    checkpoint_seconds: float = 30.0
    lease_seconds: float = 60.0
    clear_after_days: float = 7.0
    engine_: Engine | None = None
    decisions_seen_: int = 0
    renewed_at_: float = 0.0
    meta_key_: tuple[int, Any] | None = None
    lock_: threading.Lock = field(default_factory=threading.Lock)
    # The chunk after the last one a step took in, being read (``step``); it holds
    # only segments no checkpoint covers, and goes with the state in memory.
    ahead_: Future[Chunk | None] | None = None
    threads_: PipelineThreads | None = None
    # Reads the chunks (``pipeline.chunks``); it remembers the chunks a step failed
    # on across ``_forget``, to screen them when they are read again.
    chunks_: ChunkReader = field(init=False)

    def __post_init__(self) -> None:
        self.chunks_ = ChunkReader(self.db, self.chunk_records)

    def _read_chunk(self, after: int) -> list[tuple[int, int, bytes]]:
        return self.chunks_.read(after)

    def _threads(self) -> PipelineThreads:
        if self.threads_ is None:
            self.threads_ = PipelineThreads()
        return self.threads_

    def close(self) -> None:
        """Shut the threads down and drop the state in memory (the checkpoint holds
        it); a later step makes them again and restores it."""
        with self.lock_:
            threads, self.threads_ = self.threads_, None
            self._forget()
        if threads is not None:
            threads.shutdown()

    # -- state ---------------------------------------------------------------------

    def _restore(self) -> Engine:
        if self.engine_ is not None:
            return self.engine_
        with self.db.connect() as conn:
            stored = store.load_state(conn)
            next_number = identity.next_case_number(conn)
        engine = self._decode(stored)
        if engine is None:
            engine = self._rebuild()
        else:
            self.decisions_seen_ = stored.decisions_seen if stored else 0
            # The store is the authority on which ids are taken.
            engine.adopt_cases([], next_number=next_number)
        self.engine_ = engine
        return engine

    def _decode(self, stored: store.StoredState | None) -> Engine | None:
        """The checkpointed engine, or None where there is none this code can read."""
        if stored is None or stored.state is None:
            return None
        if stored.version != STATE_VERSION:
            log.warning(
                "pipeline state of version %s, this code writes %s: rebuilding it from "
                "the event log",
                stored.version,
                STATE_VERSION,
            )
            return None
        try:
            return Engine.restore(
                stored.state, threads=self._threads(), versions=library_versions()
            )
        except StaleState:
            log.warning(
                "pipeline state unreadable: rebuilding it from the event log", exc_info=True
            )
            return None

    def _rebuild(self) -> Engine:
        """A fresh engine that continues the store's cases, with the whole event log
        marked for replay and every decision to be learned again: history is taken
        in again, never skipped, and no case id is numbered afresh."""
        scorer = ClusterScorer(threshold=self.config.threshold)
        engine = Engine(config=self.config, scorer=scorer, threads=self._threads())
        with write_transaction(self.db) as conn:
            known = identity.known_cases(conn)
            next_number = identity.next_case_number(conn)
            replayed = identity.replay_from_start(conn)
        if replayed:
            log.warning("replaying %d segments into a rebuilt pipeline state", replayed)
        engine.adopt_cases(
            [
                CaseInfo(
                    case_id=case.case_id,
                    opened_at=case.opened_at,
                    peak_score=case.peak_score,
                    accounts=set(case.accounts),
                )
                for case in known
            ],
            next_number=next_number,
        )
        self.decisions_seen_ = 0
        return engine

    def _refresh_meta(self, engine: Engine) -> None:
        with self.db.connect() as conn:
            key = conn.execute(select(func.count(), func.max(AccountRow.updated_at))).one()
            if tuple(key) == self.meta_key_:
                return
            frame = signup_meta(conn)
        engine.set_meta(frame)
        self.meta_key_ = (int(key[0]), key[1])

    def _checkpoint(
        self,
        engine: Engine,
        segments: list[tuple[int, int, int]],
        updates: list[CaseUpdate],
        quarantined: Sequence[Quarantined] = (),
    ) -> int | None:
        """Write the engine, the segments it took in, the records it set aside and
        the case updates in one transaction; returns the cases written, or None
        (nothing written) when the lease passed to another worker since this one
        last checkpointed."""
        blob = engine.snapshot()
        with write_transaction(self.db) as conn:
            # Checked in the transaction that writes: a worker whose lease lapsed
            # while it wrote its snapshot must not overwrite what its successor wrote.
            lease = store.take_lease(
                conn, holder=self.holder, now=time.time(), ttl=self.lease_seconds
            )
            if not lease.continued:
                return None
            store.mark_processed(conn, segments=segments)
            quarantine(conn, items=quarantined)
            written = store.write_case_updates(conn, updates=updates)
            link_campaigns(conn, updates=updates, threshold=self.config.threshold)
            clear_quiet_cases(
                conn,
                updates=updates,
                threshold=self.config.threshold,
                event_time=engine.watermark,
                clear_after_days=self.clear_after_days,
            )
            store.save_state(
                conn,
                state=store.StoredState(
                    version=STATE_VERSION,
                    watermark=engine.watermark,
                    max_event=engine.max_event,
                    processed=engine.received,
                    late=engine.late,
                    windows_closed=engine.windows_closed,
                    decisions_seen=self.decisions_seen_,
                    state=blob,
                ),
            )
        self.chunks_.covered(s for s, _, _ in segments)
        for item in quarantined:
            # Where it is and what failed; never the record itself, which may carry
            # a prompt: it is in the quarantine table for whoever may read it.
            log.warning(
                "set aside %d record(s) of segment %d%s at %s: %s",
                item.record_count,
                item.segment_id,
                "" if item.line is None else f", line {item.line}",
                item.stage,
                item.error,
            )
        return written

    def _learn_decisions(self, engine: Engine) -> None:
        with self.db.connect() as conn:
            found = store.decisions_after(conn, after_id=self.decisions_seen_)
        for decision_id, action, features in found:
            engine.scorer.learn_decision(features, action)
            self.decisions_seen_ = decision_id

    # -- work ----------------------------------------------------------------------

    def step(self, *, flush: bool = False) -> RunStats:
        """Process what has arrived (at most one checkpoint's worth) and checkpoint it.

        Returns empty stats when another worker holds the lease.
        """
        with self.lock_:
            # A worker with no state in memory restores it first, even with nothing
            # new to read: a state it cannot restore is rebuilt by replaying the log.
            if not flush and self.engine_ is not None and not self._has_work():
                return RunStats()
            if not self._lease().held:
                return RunStats()
            try:
                return self._step(flush=flush)
            except BaseException:
                # The engine may have taken in records that no checkpoint covers:
                # kept, they would be taken in again when the step is retried.
                self._forget()
                raise

    def _step(self, *, flush: bool) -> RunStats:
        """The step's work, under the lease: read, advance, checkpoint."""
        engine = self._restore()
        self._refresh_meta(engine)
        self._learn_decisions(engine)
        stats = RunStats()
        marks: list[tuple[int, int, int]] = []
        updates: list[CaseUpdate] = []
        quarantined: list[Quarantined] = []
        chunk: Chunk | None = None
        started = time.monotonic()
        # The next chunk is read and parsed on a second thread while the engine
        # works on this one: polars and zstd release the GIL, so the two overlap.
        # The read started last in a step is carried into the next, so that
        # reading goes on while this step checkpoints.
        ahead, self.ahead_ = self.ahead_, None
        if ahead is None:
            ahead = self._threads().reader.submit(self.chunks_.load, 0)
        while True:
            chunk = ahead.result()
            if chunk is None:
                break
            if not self._keep_lease():
                return self._handed_over()
            ahead = self._threads().reader.submit(self.chunks_.load, chunk.last_id)
            if chunk.records is None:
                chunk = self.chunks_.screened(chunk, engine.probe)
            try:
                late_by_segment = self._feed(engine, chunk)
                updates += self._advance(engine)
            except BaseException as error:
                self.chunks_.suspect(chunk.segments, error)
                raise
            marks += [(s, n, late_by_segment.get(s, 0)) for s, n in chunk.segments]
            quarantined += chunk.quarantined
            stats.segments += len(chunk.segments)
            stats.records += sum(n for _, n in chunk.segments)
            stats.late += sum(late_by_segment.values())
            stats.quarantined += sum(q.record_count for q in chunk.quarantined)
            if time.monotonic() - started >= self.checkpoint_seconds:
                self.ahead_ = ahead
                break
        try:
            if flush:
                updates += self._advance(engine, flush=True)
            updates += engine.settle()
        except BaseException as error:
            # Ticks run behind the chunks: the last chunk taken in is the suspect.
            if chunk is not None:
                self.chunks_.suspect(chunk.segments, error)
            raise
        if marks or updates or flush:
            written = self._checkpoint(engine, marks, updates, quarantined)
            if written is None:
                return self._handed_over()
            stats.cases_written = written
        return stats

    def _advance(self, engine: Engine, *, flush: bool = False) -> list[CaseUpdate]:
        """``engine.advance``, timing each closed window for the window-time histogram."""
        updates: list[CaseUpdate] = []
        steps = engine.closing(flush=flush)
        while True:
            started = time.perf_counter()
            step = next(steps, None)
            if step is None:
                return updates
            observe_window(time.perf_counter() - started)
            updates += step

    def _feed(self, engine: Engine, chunk: Chunk) -> dict[int, int]:
        """Hand ``chunk`` to the engine; returns its late records by segment."""
        records = chunk.records
        assert records is not None
        width = engine.config.window_seconds
        late_by_segment: dict[int, int] = {}
        if engine.closed_until is not None:
            late = (records["ts"] // width) < (engine.closed_until // width)
            if late.any():
                segment = pl.Series(
                    "segment", [s for s, n in chunk.segments for _ in range(n)], pl.Int64
                )
                counts = segment.filter(late).value_counts()
                late_by_segment = {int(s): int(c) for s, c in counts.iter_rows()}
        engine.add(records)
        return late_by_segment

    def try_lease(self) -> bool:
        """Take (or renew) the lease; False when another live worker holds it."""
        with self.lock_:
            return self._lease().held

    def _has_work(self) -> bool:
        with self.db.connect() as conn:
            return bool(store.unprocessed_segments(conn, limit=1))

    def _lease(self) -> store.Lease:
        now = time.time()
        with write_transaction(self.db) as conn:
            lease = store.take_lease(conn, holder=self.holder, now=now, ttl=self.lease_seconds)
        if lease.held and not lease.continued:
            # Another worker held the lease since this one last did, and may have
            # checkpointed: the state in memory is stale. Resume from the store.
            self._forget()
        if lease.held:
            self.renewed_at_ = now
        return lease

    def _keep_lease(self) -> bool:
        """Renew the lease during a step once a third of it has passed, so a step
        longer than the lease keeps it; False when another worker has held it since."""
        if time.time() - self.renewed_at_ < self.lease_seconds / 3:
            return True
        return self._lease().continued

    def _handed_over(self) -> RunStats:
        """Give up a step whose lease passed to another worker: what the engine took
        in since its last checkpoint is theirs now, so it resumes from the store."""
        self._forget()
        return RunStats()

    def _forget(self) -> None:
        """Drop the state in memory, the chunk read ahead for it, and what it was
        told of the accounts: the state restored next needs the metadata again."""
        self.engine_ = None
        self.ahead_ = None
        self.meta_key_ = None

    def release(self) -> None:
        with write_transaction(self.db) as conn:
            store.release_lease(conn, holder=self.holder)

    def run_until_idle(self, *, flush: bool = False) -> RunStats:
        """Step until nothing is left; with ``flush``, close every window at the end."""
        total = RunStats()
        while True:
            stats = self.step()
            total.segments += stats.segments
            total.records += stats.records
            total.late += stats.late
            total.cases_written += stats.cases_written
            total.quarantined += stats.quarantined
            if stats.segments == 0:
                break
        if flush:
            total.cases_written += self.step(flush=True).cases_written
        return total

    # -- status --------------------------------------------------------------------

    def status(self) -> dict[str, object]:
        """What ``GET /v1/pipeline`` reports, read from the store (any process)."""
        with self.db.connect() as conn:
            log_totals = totals(conn)
            stored = store.load_state(conn)
            processed, late = store.processed_records(conn)
            lease = store.lease_holder(conn)
            aside = quarantined_records(conn)
        return {
            "log": log_totals,
            "processed": processed,
            "quarantined": aside,
            "late": late,
            "watermark": stored.watermark if stored else None,
            "max_event": stored.max_event if stored else None,
            "windows_closed": stored.windows_closed if stored else 0,
            "worker": lease,
        }
