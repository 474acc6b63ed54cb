"""The pipeline's pure core: records in, case updates out, as event time advances.

No I/O: the runner feeds it record frames and sign-up metadata, and checkpoints it
with ``snapshot``/``restore``. Every decision depends on event time only. Records
are held in their window until the watermark (the latest event time seen minus the
allowed lateness) passes the window's end; then the window is aggregated, and at
every tick boundary (``tick_windows`` windows, aligned to the epoch) the running
state is merged, accounts are clustered and clusters scored. Receiving the same
records in one batch or in many therefore yields the same cases at the same event
times, as long as no record arrives later than the allowed lateness; records that do
are folded in at the next tick (``Engine.add``).

The engine is a thin orchestrator over three parts, each with its own snapshot:

- ``EventClock`` (``pipeline.clock``): open windows, watermark, late records, the
  closed windows' aggregates waiting for their tick;
- ``AccountState`` (``pipeline.account_state``): running account and key state,
  daily counts, sign-up metadata;
- ``CaseTracker`` (``pipeline.tracker``): cluster registry, scorer, cases,
  campaigns, unsettled updates.

Which thread owns which part, and which threads there are: ``pipeline.threads``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import polars as pl

from detector.features.windows import WindowAggregate, aggregate_window
from detector.pipeline.account_state import AccountState, signup_keys
from detector.pipeline.cases import CaseInfo, CaseUpdate
from detector.pipeline.clock import Closing, EventClock
from detector.pipeline.config import DAILY_SCHEMA, DAY, META_SCHEMA, EngineConfig
from detector.pipeline.snapshot import Reader, StaleState, Writer, library_versions
from detector.pipeline.threads import PipelineThreads
from detector.pipeline.tracker import CaseTracker, TickView, Unsettled
from detector.scoring.scorer import ClusterScorer

__all__ = [
    "DAILY_SCHEMA",
    "DAY",
    "META_SCHEMA",
    "Closing",
    "Engine",
    "EngineConfig",
    "TickView",
    "Unsettled",
    "signup_keys",
]


def _forward(part: str, name: str) -> Any:
    """An attribute of the engine that is ``name`` of its part ``part``: the names
    callers have always read (``engine.late_``, ``engine.campaigns_``, …)."""

    def get(self: Engine) -> Any:
        return getattr(getattr(self, part), name)

    def put(self: Engine, value: Any) -> None:
        setattr(getattr(self, part), name, value)

    return property(get, put, doc=f"``{part}.{name}``")


class Engine:
    """Running state of the whole pipeline: the clock, the account state and the
    case tracker, and the ticks being analysed. Picklable once settled; checkpointed
    with ``snapshot``."""

    def __init__(
        self,
        config: EngineConfig | None = None,
        scorer: ClusterScorer | None = None,
        *,
        threads: PipelineThreads | None = None,
    ) -> None:
        self.config = config if config is not None else EngineConfig()
        self.clock = EventClock(config=self.config)
        self.accounts = AccountState(config=self.config)
        self.tracker = CaseTracker(
            config=self.config, scorer=scorer if scorer is not None else ClusterScorer()
        )
        self._attach(threads)

    def _attach(self, threads: PipelineThreads | None) -> None:
        """Use ``threads`` (the runner's), or threads of this engine's own, shut down
        when it is collected."""
        if threads is None:
            threads = PipelineThreads()
            weakref.finalize(self, threads.shutdown, wait=False)
        self.threads = threads
        # Ticks being analysed, oldest first, and the updates of those analysed but
        # not yet handed out; never checkpointed.
        self.inflight_: list[Future[list[CaseUpdate]]] = []
        self.ready_: list[CaseUpdate] = []
        # A tick whose analysis raised leaves the tracker half updated: the engine
        # refuses all further work, to be restored from a checkpoint.
        self.failed_: BaseException | None = None

    scorer = _forward("tracker", "scorer")
    registry = _forward("tracker", "registry")
    cases_ = _forward("tracker", "cases_")
    campaigns_ = _forward("tracker", "campaigns_")
    next_case_ = _forward("tracker", "next_case_")
    unsettled_ = _forward("tracker", "unsettled_")
    max_event = _forward("clock", "max_event")
    closed_until = _forward("clock", "closed_until")
    late = _forward("clock", "late")
    received = _forward("clock", "received")
    windows_closed = _forward("clock", "windows_closed")
    first_window = _forward("clock", "first_window")
    open_ = _forward("clock", "open_")
    late_ = _forward("clock", "late_")
    pending_ = _forward("clock", "pending_")
    minutes_ = _forward("clock", "minutes_")
    model_first_seen_ = _forward("clock", "model_first_seen_")
    last_tick_ = _forward("clock", "last_tick_")
    last_tick_end_ = _forward("clock", "last_tick_end_")
    accounts_ = _forward("accounts", "accounts_")
    keys_ = _forward("accounts", "keys_")
    daily_ = _forward("accounts", "daily_")
    meta_ = _forward("accounts", "meta_")
    meta_keys_ = _forward("accounts", "meta_keys_")
    gateways_ = _forward("accounts", "gateways_")

    @property
    def watermark(self) -> float | None:
        return self.clock.watermark

    def released_models(self) -> dict[str, float]:
        """Models first seen after the stream settled (the first ``new_model_days``),
        with the event time each was first seen: the releases a reviewer sees as
        markers on a case's timeline. Models present from the start are left out."""
        return self.clock.released_models()

    # -- checkpoint ----------------------------------------------------------------

    def _settled(self) -> None:
        self._check_failed()
        if self.inflight_ or self.ready_:
            raise RuntimeError("ticks are still being analysed: settle() before pickling")

    def snapshot(self) -> bytes:
        """The engine as a versioned envelope (``pipeline.snapshot``) holding each
        part's own; call once settled."""
        self._settled()
        out = Writer("engine")
        out.pickled("config", self.config)
        out.nested("clock", self.clock.snapshot())
        out.nested("accounts", self.accounts.snapshot())
        out.nested("cases", self.tracker.snapshot())
        return out.finish()

    @classmethod
    def restore(
        cls,
        blob: bytes,
        *,
        threads: PipelineThreads | None = None,
        versions: dict[str, str] | None = None,
    ) -> Engine:
        """The engine of ``snapshot``, under the configuration it was written with;
        ``StaleState`` when it was written under other library ``versions`` (this
        process's by default), by another layout, or cannot be read."""
        versions = library_versions() if versions is None else versions
        engine = cls.__new__(cls)
        try:
            data = Reader.open(blob, part="engine", versions=versions)
            config = data.pickled("config")
            if not isinstance(config, EngineConfig):
                raise StaleState(f"engine: a {type(config).__name__}, not an EngineConfig")
            engine.config = config
            engine.clock = EventClock.restore(
                data.nested("clock"), config=config, versions=versions
            )
            engine.accounts = AccountState.restore(
                data.nested("accounts"), config=config, versions=versions
            )
            engine.tracker = CaseTracker.restore(
                data.nested("cases"), config=config, versions=versions
            )
        except StaleState:
            raise
        except Exception as error:
            # A checkpoint that does not read as this code wrote it, however it fails,
            # is rebuilt from the event log rather than retried at every step.
            raise StaleState(f"engine: unreadable: {type(error).__name__}: {error}") from error
        engine._attach(threads)
        return engine

    def __getstate__(self) -> dict[str, Any]:
        self._settled()
        return {
            "config": self.config,
            "clock": self.clock,
            "accounts": self.accounts,
            "tracker": self.tracker,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._attach(None)

    def _check_failed(self) -> None:
        if self.failed_ is not None:
            raise RuntimeError(
                "a tick's analysis failed: restore the engine from a checkpoint"
            ) from self.failed_

    # -- case identity -------------------------------------------------------------

    def adopt_cases(self, known: list[CaseInfo], *, next_number: int) -> None:
        """Take the cases the store already holds, so that a cluster over the
        threshold continues the one it overlaps (``continued_case``) instead of
        opening another, and number new cases from ``next_number`` on, never below
        what this state numbered. Case ids belong to the store: a rebuilt state
        adopts them before it replays the event log, and a restored one is told
        the next free number, so no id is ever handed out twice."""
        if self.inflight_:
            raise RuntimeError("ticks are being analysed: adopt cases before feeding records")
        self.tracker.adopt(known, next_number=next_number)

    # -- input ---------------------------------------------------------------------

    def set_meta(self, meta: pl.DataFrame) -> None:
        """Replace the sign-up metadata (one row per account, ``META_SCHEMA``)."""
        self.accounts.set_meta(meta)

    def add(self, records: pl.DataFrame) -> int:
        """Hold narrow records in their windows; returns how many were late (their
        window already closed).

        Late records are counted and still folded in, as a late correction: they are
        aggregated in their own windows and merged into the state at the next tick,
        so that a batch delayed in flight, or a sender behind the others, changes
        when its evidence counts, never whether. Records older than the retention
        horizon are counted and left out: no state holds them any more."""
        if records.is_empty():
            return 0
        return self.clock.add(self.accounts.entities(records))

    def probe(self, records: pl.DataFrame) -> None:
        """The per-record work of ``add`` and of a window's aggregate, on ``records``
        alone, changing nothing: raises what they would raise. The runner screens
        with it a chunk that a step failed on (``pipeline.screen``)."""
        frame = self.accounts.entities(records)
        width = self.config.window_seconds
        frame = frame.with_columns((pl.col("ts") // width).cast(pl.Int64).alias("_w"))
        for (w,), part in frame.partition_by("_w", as_dict=True).items():
            aggregate_window(part.drop("_w"), start=float(int(w) * width))
        float(frame["ts"].max())  # type: ignore[arg-type]

    # -- event time ------------------------------------------------------------------

    def advance(self, *, flush: bool = False) -> list[CaseUpdate]:
        """Close every window the watermark has passed (with ``flush``, every window
        up to the latest event seen) and run the ticks that fall due; then settle."""
        updates = [update for step in self.closing(flush=flush) for update in step]
        return updates + self.settle()

    def settle(self) -> list[CaseUpdate]:
        """Wait for the ticks still being analysed, return their updates, and gather
        the evidence of every case's latest update returned so far.

        A case is updated at every tick while its cluster holds, and only its latest
        update is written, so the evidence of an update (shared infrastructure and
        timeline: joins over the whole key state) is gathered when the next tick
        shows that no later update replaces it, or here. Call this before writing
        updates that ``closing`` returned, and before a snapshot.
        """
        updates = self.collect()
        self.tracker.settle(superseded=frozenset())
        return updates

    def collect(self) -> list[CaseUpdate]:
        """Wait for the ticks still being analysed and return their updates, their
        evidence not yet gathered (``settle`` gathers it)."""
        return self._finished(keep=0)

    def _finished(self, *, keep: int | None = None) -> list[CaseUpdate]:
        """The updates of the ticks analysed so far (``_reap``), handed out: in tick
        order, whenever they are collected."""
        self._reap(keep=keep)
        ready, self.ready_ = self.ready_, []
        return ready

    def _reap(self, *, keep: int | None = None) -> None:
        """Move the updates of the ticks analysed so far to ``ready_``, oldest first;
        with ``keep``, first wait until at most ``keep`` ticks are being analysed."""
        self._check_failed()
        while self.inflight_ and (
            self.inflight_[0].done() or (keep is not None and len(self.inflight_) > keep)
        ):
            try:
                self.ready_ += self.inflight_.pop(0).result()
            except BaseException as error:
                self.failed_ = error
                raise

    def closing(self, *, flush: bool = False) -> Iterator[list[CaseUpdate]]:
        """``advance`` one step at a time: closes one window a step, so a caller can
        time each, and yields the updates of the ticks analysed by then. With
        ``flush``, a last step runs the tick of a partial tick span. Ticks are
        analysed on another thread: ``settle`` returns the updates of those still
        being analysed, and the caller settles before it writes what was yielded."""
        clock = self.clock
        if clock.max_event is None:
            return
        ahead = clock.take(clock.due(flush=flush), self.threads.aggregator)
        try:
            while ahead:
                self._close(ahead.pop(0))
                yield self._finished()
        finally:
            # Left part way (the caller stopped, or a tick failed): the windows not
            # closed go back as they were, to be closed again.
            for window in ahead:
                clock.reopen(window)
        end = clock.flush_due() if flush else None
        if end is not None:
            self._tick(end)
            yield self._finished()

    # -- windows aggregated elsewhere ------------------------------------------------

    def close_aggregated(
        self,
        start: float,
        firsts: list[tuple[str, float]],
        aggregate: Callable[[frozenset[str]], WindowAggregate],
    ) -> list[CaseUpdate]:
        """Close a window whose records were aggregated elsewhere (stage 1 of the
        scaled-out deployment, detector/scaleout): ``firsts`` are the models it saw
        with when each was first seen in it, and ``aggregate`` gives its aggregate
        once told which models count as new. Windows are closed in order, as
        ``closing`` closes them, and the ticks they complete run the same way;
        returns the updates of the ticks analysed by then (``settle`` before
        writing them)."""
        self._close(self.clock.aggregated(start, firsts, aggregate))
        return self._finished()

    def close_held(self) -> list[CaseUpdate]:
        """Close every window holding records, in order, whatever the watermark.

        For records handed to ``add`` by a caller that closes windows itself
        (``close_aggregated``): stage 2 adds the records stage 1 found behind the
        watermark, and those whose window never closed here open it again, to be
        closed before any later window, as ``advance`` would have closed them."""
        clock = self.clock
        ahead = clock.take(sorted(clock.open_), self.threads.aggregator)
        try:
            while ahead:
                self._close(ahead.pop(0))
        finally:
            for window in ahead:
                clock.reopen(window)
        return self._finished()

    def _close(self, window: Closing) -> None:
        """Close ``window`` and run the tick that falls due with it, if one does."""
        end = self.clock.close(window)
        if end is not None:
            self._tick(end)

    def _tick(self, end: float) -> None:
        """Merge the closed windows into the state, then hand the tick's analysis
        (``CaseTracker.analyse``) to the analysing thread with a view of that state."""
        self._check_failed()
        self.accounts.merge(self.clock.drain(end), end)
        view = TickView(
            end=end,
            accounts=self.accounts.accounts_,
            keys=self.accounts.keys_.rows,
            meta=self.accounts.meta_,
            meta_keys=self.accounts.meta_keys_,
            minutes=list(self.clock.minutes_),
            daily=self.accounts.daily(),
            releases=self.clock.released_models(),
        )
        # One tick analysed at a time: were the analysis slower than merging, views
        # would pile up, each holding a whole key state.
        self._reap(keep=0)
        self.inflight_.append(self.threads.analyser.submit(self.tracker.analyse, view))
