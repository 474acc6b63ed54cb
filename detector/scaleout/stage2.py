"""Stage 2: the one process that sees every active account at once.

It reads the window aggregates stage 1 committed, batch by batch, and hands them to
the embedded engine (``Engine.close_aggregated``; the few records stage 1 found
behind the watermark through ``Engine.add``, see ``Feeder``), which merges, links,
scores and opens cases with the code the embedded pipeline runs. What depends on the
global order of windows is worked out there: the models first seen in each window
(from stage 1's records per model) and so which count as new, the running state,
clusters and their organisation. Case updates are written as the embedded runner
writes them, with the engine's checkpoint and the last batch taken in, in one
transaction.
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import Engine as SqlEngine

from detector.config import get_settings
from detector.pipeline.cases import CaseInfo, CaseUpdate
from detector.pipeline.engine import Engine, EngineConfig
from detector.pipeline.runner import STATE_VERSION
from detector.pipeline.snapshot import StaleState
from detector.scaleout.frames import PARTS, firsts, from_ipc, window_aggregate
from detector.scoring.scorer import ClusterScorer
from detector.store import aggregates
from detector.store import case_identity as identity
from detector.store import cases as store
from detector.store.accounts import signup_meta
from detector.store.campaigns import link_campaigns
from detector.store.clearing import clear_quiet_cases
from detector.store.db import make_engine, write_transaction

log = logging.getLogger("detector.scaleout")

Frames = dict[str, list[pl.DataFrame]]


def read_meta(db: SqlEngine) -> pl.DataFrame:
    """Every account's sign-up metadata, in ``META_SCHEMA``."""
    with db.connect() as conn:
        return signup_meta(conn)


def _joined(parts: Frames) -> dict[str, pl.DataFrame]:
    return {name: pl.concat(parts.get(name, [])) for name in PARTS}


@dataclass
class Feeder:
    """Hands stage 1's batches to an engine as the engine would have seen them.

    Stage 1's batch ``k`` closes the windows the engine closed when it advanced after
    the records of batch ``k - 1``, then finds batch ``k``'s records behind the
    watermark. So each batch's windows are closed first, in order, then its records
    behind the watermark are added (``Engine.add``: those of a window closed here are
    late corrections, merged at the next tick; those of a window that never held
    records open it again), and the windows they opened are closed at once, which
    is before any window of the next batch, as the engine's next advance would."""

    engine: Engine

    def feed(self, parts: list[aggregates.Part]) -> list[CaseUpdate]:
        batches: dict[int, list[aggregates.Part]] = {}
        for part in parts:
            batches.setdefault(part.batch_id, []).append(part)
        updates: list[CaseUpdate] = []
        for batch_id in sorted(batches):
            updates += self._batch(batches[batch_id])
        return updates

    def _batch(self, parts: list[aggregates.Part]) -> list[CaseUpdate]:
        windows: dict[float, Frames] = {}
        behind: list[pl.DataFrame] = []
        for part in parts:
            frame = from_ipc(part.payload)
            if part.window_start is None:
                behind.append(frame)
            else:
                windows.setdefault(part.window_start, {}).setdefault(part.part, []).append(frame)
        updates: list[CaseUpdate] = []
        for start in sorted(windows):
            joined = _joined(windows[start])
            updates += self.engine.close_aggregated(
                start,
                firsts(joined["models"]),
                lambda new, s=start, j=joined: window_aggregate(s, j, new),  # type: ignore[misc]
            )
        if behind:
            self.engine.add(pl.concat(behind))
            updates += self.engine.close_held()
        return updates


@dataclass
class Stage2:
    """Reads committed aggregates, feeds the engine, writes cases: ``step`` at a time."""

    db: SqlEngine
    config: EngineConfig = field(default_factory=EngineConfig)
    clear_after_days: float = 7.0
    engine_: Engine | None = None
    feeder_: Feeder | None = None
    after_batch_: int = -1
    decisions_seen_: int = 0

    def _restore(self) -> Feeder:
        if self.feeder_ is not None:
            return self.feeder_
        with self.db.connect() as conn:
            saved = aggregates.load_stage2(conn)
        engine = None
        if saved is not None and saved.version == STATE_VERSION:
            try:
                engine = Engine.restore(saved.state)
                self.after_batch_ = saved.after_batch
                self.decisions_seen_ = saved.decisions_seen
            except StaleState:
                log.warning("stage 2 state unreadable: reading every aggregate again")
        known: list[CaseInfo] = []
        if engine is None:
            engine = Engine(
                config=self.config, scorer=ClusterScorer(threshold=self.config.threshold)
            )
            self.after_batch_, self.decisions_seen_ = -1, 0
            # A state built afresh continues the store's cases, as the runner's does.
            with self.db.connect() as conn:
                known = [
                    CaseInfo(
                        case_id=case.case_id,
                        opened_at=case.opened_at,
                        peak_score=case.peak_score,
                        accounts=set(case.accounts),
                    )
                    for case in identity.known_cases(conn)
                ]
        with self.db.connect() as conn:
            engine.adopt_cases(known, next_number=identity.next_case_number(conn))
        self.engine_ = engine
        self.feeder_ = Feeder(engine)
        return self.feeder_

    def step(self) -> list[CaseUpdate]:
        """Take in every batch stage 1 committed since the last step; returns the
        case updates it wrote."""
        feeder = self._restore()
        engine = feeder.engine
        engine.set_meta(read_meta(self.db))
        with self.db.connect() as conn:
            found = store.decisions_after(conn, after_id=self.decisions_seen_)
            parts = aggregates.parts_after(conn, after_batch=self.after_batch_)
        for decision_id, action, features in found:
            engine.scorer.learn_decision(features, action)
            self.decisions_seen_ = decision_id
        if not parts and not found:
            return []
        try:
            updates = feeder.feed(parts)
            updates += engine.settle()
            after = max([p.batch_id for p in parts], default=self.after_batch_)
            blob = engine.snapshot()
            with write_transaction(self.db) as conn:
                store.write_case_updates(conn, updates=updates)
                link_campaigns(conn, updates=updates, threshold=self.config.threshold)
                clear_quiet_cases(
                    conn,
                    updates=updates,
                    threshold=self.config.threshold,
                    event_time=engine.closed_until,
                    clear_after_days=self.clear_after_days,
                )
                aggregates.save_stage2(
                    conn,
                    version=STATE_VERSION,
                    after_batch=after,
                    decisions_seen=self.decisions_seen_,
                    state=blob,
                )
        except BaseException:
            # What the engine took in is not checkpointed: restored at the next step.
            self.feeder_ = self.engine_ = None
            raise
        self.after_batch_ = after
        return updates


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="detector stage2", description=__doc__)
    parser.add_argument("--once", action="store_true", help="one step, then exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    args = parser().parse_args(argv)
    config = EngineConfig(
        window_seconds=settings.pipeline_window_seconds,
        lateness_seconds=settings.pipeline_lateness_seconds,
        tick_windows=settings.pipeline_tick_windows,
        threshold=settings.pipeline_threshold,
    )
    db = make_engine(settings.resolved_database_url)
    worker = Stage2(db, config, clear_after_days=settings.case_clear_after_days)
    while True:
        updates = worker.step()
        log.info("stage 2: %d case updates written", len(updates))
        if args.once:
            return 0
        time.sleep(settings.pipeline_poll_seconds)


if __name__ == "__main__":
    raise SystemExit(main())
