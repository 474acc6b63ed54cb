"""The pipeline's pure core: records in, case updates out, as event time advances.

No I/O: the runner feeds it record frames and sign-up metadata, and checkpoints the
whole engine by pickling it. Every decision depends on event time only. Records are
held in their window until the watermark (the latest event time seen minus the
allowed lateness) passes the window's end; then the window is aggregated, and at
every tick boundary (``tick_windows`` windows, aligned to the epoch) the running
state is merged, accounts are clustered and clusters scored. Receiving the same
records in one batch or in many therefore yields the same cases at the same event
times, as long as no record arrives later than the allowed lateness; records that do
are folded in at the next tick (``Engine.add``).

Threads, and who owns what:

- the caller's thread (the runner's, or ``evaluate``'s) owns the engine: it alone calls
  ``add``, ``advance``/``closing``, ``settle``, ``set_meta``, ``adopt_cases`` and
  pickles it, and it alone changes the open windows, the late records, the running
  account and key state, the daily counts and the metadata;
- the aggregating thread (``_AGGREGATOR``) computes one closed window's aggregate from
  that window's records alone, and touches no state;
- the analysing thread (``_ANALYSER``) runs one tick's ``_analyse`` at a time, from a
  ``TickView`` of the state as it was at that tick, and alone changes the cluster
  registry, the scorer, the cases, the campaigns and the unsettled updates; the
  caller's thread reads them only once ``settle`` has waited for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from detector.clustering.coherence import prune
from detector.clustering.identity import ClusterRegistry
from detector.clustering.linkage import LINKING_KINDS, LinkageConfig, account_meta_keys, components
from detector.clustering.operations import join_operations
from detector.features.capability import CAPABILITIES
from detector.features.frames import principal
from detector.features.key_state import KeyState, merge_keys
from detector.features.state import empty_accounts, merge_accounts
from detector.features.windows import (
    ACCOUNT_HASH,
    WindowAggregate,
    aggregate_window,
    with_match_hashes,
)
from detector.pipeline.cases import (
    OWNERS_SCHEMA,
    Campaigns,
    CaseInfo,
    CaseUpdate,
    capability_mix,
    continued_case,
    no_shared,
    shared_by_case,
    timelines,
)
from detector.scoring.cluster_features import FEATURE_NAMES, cluster_features, with_card_owners
from detector.scoring.scorer import ClusterScore, ClusterScorer

META_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.String(),
    "created_at": pl.Float64(),
    "org_id": pl.String(),
    "payment_fingerprint": pl.String(),
    "email_domain": pl.String(),
    "signup_ip": pl.String(),
    "program": pl.String(),
}
DAY = 86_400.0
DAILY_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.String(),
    "day": pl.Int64(),
    "records": pl.Int64(),
}


def signup_keys(meta: pl.DataFrame) -> pl.DataFrame:
    """Every account's keys from sign-up metadata (``account_meta_keys``), with the
    match hashes linkage groups on."""
    return with_match_hashes(account_meta_keys(meta))


def gateway_entities(records: pl.DataFrame, gateways: frozenset[str]) -> pl.DataFrame:
    """``records`` with the end users of ``gateways`` (accounts declared gateways,
    ``Engine.set_meta``) as entities of their own. The engine applies it as records
    arrive; the distributed stage 1 (detector/scaleout) applies it the same way.

    A gateway or reseller calls for thousands of customers from one account, and
    a campaign may run through a few dozen of them: a sliver of the account's
    traffic, and one account is never a cluster. Their records count under the end
    user inside the account (``principal``), without the gateway's network (the
    address it calls from is every end user's: it neither links them nor counts as
    theirs) and without its organisation (its customers are not its staff). Only
    for accounts whose sign-up declares them gateways: anyone can put a ``user``
    on a call, and every other account's traffic stays its own.
    """
    if not gateways or "end_user" not in records.columns:
        return records
    behind = records["account_id"].is_in(list(gateways)) & records["end_user"].is_not_null()
    if not behind.any():
        return records
    pairs = records.filter(behind).select("account_id", "end_user").unique()
    names = pl.DataFrame(
        {
            "account_id": pairs["account_id"],
            "end_user": pairs["end_user"],
            "_entity": [principal(a, u) for a, u in pairs.iter_rows()],
        }
    )
    return (
        records.with_row_index("_row")
        .join(names, on=["account_id", "end_user"], how="left")
        .sort("_row")
        .with_columns(
            pl.coalesce("_entity", "account_id").alias("account_id"),
            pl.when(pl.col("_entity").is_not_null())
            .then(None)
            .otherwise(pl.col("ip_prefix"))
            .alias("ip_prefix"),
            pl.when(pl.col("_entity").is_not_null())
            .then(None)
            .otherwise(pl.col("org_id"))
            .alias("org_id"),
        )
        .drop("_row", "_entity")
    )


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Knobs of the pipeline; see docs/detection.md for what each trades."""

    window_seconds: int = 3600
    lateness_seconds: int = 2 * 3600
    tick_windows: int = 3
    active_days: float = 14.0
    retention_days: float = 30.0
    top_k: int = 4
    new_model_days: float = 2.0
    min_case_accounts: int = 3
    threshold: float = 0.7
    lockstep_windows: int = 3
    linkage: LinkageConfig = field(default_factory=LinkageConfig)
    # Sign-up programmes of accounts that call for customers of their own (resellers,
    # gateways): their records' end users are counted as entities (``Engine.add``).
    gateway_programs: tuple[str, ...] = ("reseller", "gateway")


# Windows are aggregated on a thread of their own, ahead of the ticks that use them:
# polars releases the GIL, so the next windows' aggregates are computed while this
# thread merges, clusters and scores. Each aggregate is a function of its window's
# records alone, so the order of work changes no result.
_AGGREGATOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="window-aggregate")
# A tick's clustering, scoring and case updates run on another thread, in tick order,
# while this one merges the next windows into the state: they read the state as it
# was at their tick (``TickView``), and only they touch the registry, the scorer and
# the cases, so the overlap changes no result either.
_ANALYSER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tick-analysis")


@dataclass(frozen=True, slots=True)
class Closing:
    """A window taken out of the open ones: its records, the models it saw first
    (with when), and its aggregate, being computed."""

    index: int
    frame: pl.DataFrame
    firsts: list[tuple[str, float]]
    aggregate: Future[WindowAggregate]


@dataclass(frozen=True, slots=True)
class TickView:
    """The state a tick is analysed from, as it was when its windows were merged.
    Polars frames are never changed in place, so holding them is holding that state;
    the containers the merging thread changes are copied."""

    end: float
    accounts: pl.DataFrame
    keys: pl.DataFrame
    meta: pl.DataFrame
    meta_keys: pl.DataFrame
    minutes: list[tuple[int, pl.DataFrame]]
    daily: pl.DataFrame
    releases: dict[str, float]


@dataclass(frozen=True, slots=True)
class Unsettled:
    """The updates of a tick whose evidence is not yet gathered, with the state it
    is gathered from: frames as they were at that tick (polars frames are never
    changed in place, so holding them is holding that state)."""

    updates: list[CaseUpdate]
    owners: pl.DataFrame
    keys: pl.DataFrame
    daily: pl.DataFrame


@dataclass
class Engine:
    """Running state of the whole pipeline. Picklable."""

    config: EngineConfig = field(default_factory=EngineConfig)
    scorer: ClusterScorer = field(default_factory=ClusterScorer)
    registry: ClusterRegistry = field(default_factory=ClusterRegistry)
    max_event: float | None = None
    closed_until: float | None = None  # end of the last closed window
    late: int = 0
    received: int = 0
    windows_closed: int = 0
    first_window: float | None = None
    open_: dict[int, list[pl.DataFrame]] = field(default_factory=dict)
    # Records whose window had closed when they arrived, merged at the next tick.
    late_: list[pl.DataFrame] = field(default_factory=list)
    pending_: list[WindowAggregate] = field(default_factory=list)
    minutes_: list[tuple[int, pl.DataFrame]] = field(default_factory=list)
    accounts_: pl.DataFrame = field(default_factory=empty_accounts)
    keys_: KeyState = field(default_factory=KeyState)
    # Records per account and day, one frame per day: a tick regroups only the days
    # its windows fall on, and retention drops whole days.
    daily_: dict[int, pl.DataFrame] = field(default_factory=dict)
    model_first_seen_: dict[str, float] = field(default_factory=dict)
    cases_: dict[str, CaseInfo] = field(default_factory=dict)
    campaigns_: Campaigns = field(default_factory=Campaigns)
    next_case_: int = 1
    last_tick_: int | None = None
    last_tick_end_: float | None = None
    meta_: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=META_SCHEMA))
    # The keys sign-up metadata gives every account, made when the metadata changes
    # rather than at every tick (``signup_keys``).
    meta_keys_: pl.DataFrame = field(
        default_factory=lambda: signup_keys(pl.DataFrame(schema=META_SCHEMA))
    )
    unsettled_: Unsettled | None = None
    # Accounts declared gateways (``EngineConfig.gateway_programs``), from the metadata.
    gateways_: frozenset[str] = frozenset()
    # Ticks being analysed (``_ANALYSER``), oldest first, and the updates of those
    # analysed but not yet handed out; never pickled.
    inflight_: list[Future[list[CaseUpdate]]] = field(default_factory=list)
    ready_: list[CaseUpdate] = field(default_factory=list)
    # A tick whose analysis raised leaves the registry, scorer and cases half
    # updated: the engine refuses all further work, to be restored from a checkpoint.
    failed_: BaseException | None = None

    def __getstate__(self) -> dict[str, Any]:
        self._check_failed()
        if self.inflight_ or self.ready_:
            raise RuntimeError("ticks are still being analysed: settle() before pickling")
        state = self.__dict__.copy()
        del state["inflight_"], state["ready_"], state["failed_"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.inflight_ = []
        self.ready_ = []
        self.failed_ = None

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
        for info in known:
            # Keyed apart from every cluster id: these cases are continued by
            # overlap, and a cluster that continues one is keyed by its own id.
            self.cases_.setdefault(f"stored:{info.case_id}", info)
        self.next_case_ = max(self.next_case_, next_number)

    # -- input ---------------------------------------------------------------------

    def set_meta(self, meta: pl.DataFrame) -> None:
        """Replace the sign-up metadata (one row per account, ``META_SCHEMA``)."""
        self.meta_ = with_card_owners(
            meta.select([pl.col(name).cast(dtype) for name, dtype in META_SCHEMA.items()])
        ).sort("account_id")
        self.meta_keys_ = signup_keys(self.meta_)
        self.gateways_ = frozenset(
            self.meta_.filter(pl.col("program").is_in(list(self.config.gateway_programs)))[
                "account_id"
            ].to_list()
        )

    def _entities(self, records: pl.DataFrame) -> pl.DataFrame:
        return gateway_entities(records, self.gateways_)

    @property
    def watermark(self) -> float | None:
        if self.max_event is None:
            return None
        return self.max_event - self.config.lateness_seconds

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
        records = self._entities(records)
        width = self.config.window_seconds
        index = (records["ts"] // width).cast(pl.Int64)
        frame = records.with_columns(index.alias("_w"))
        late = 0
        if self.closed_until is not None:
            closed = frame["_w"] < int(self.closed_until // width)
            late = int(closed.sum())
            if late:
                horizon = self.closed_until - self.config.retention_days * DAY
                stale = frame.filter(closed & (pl.col("ts") >= horizon))
                if stale.height:
                    self.late_.append(stale)
            frame = frame.filter(~closed)
        for (w,), part in frame.partition_by("_w", as_dict=True).items():
            self.open_.setdefault(int(w), []).append(part.drop("_w"))
        latest = float(records["ts"].max())  # type: ignore[arg-type]
        self.max_event = latest if self.max_event is None else max(self.max_event, latest)
        self.late += late
        self.received += len(records)
        return late

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
        updates that ``closing`` returned, and before pickling the engine.
        """
        updates = self.collect()
        self._settle(superseded=frozenset())
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

    def _settle(self, *, superseded: frozenset[str]) -> None:
        pending, self.unsettled_ = self.unsettled_, None
        if pending is None:
            return
        wanted = [u for u in pending.updates if u.case_id not in superseded]
        if not wanted:
            return
        owners = pending.owners.filter(pl.col("case_id").is_in([u.case_id for u in wanted]))
        shared = shared_by_case(pending.keys, owners)
        lines = timelines(pending.daily, owners)
        for update in wanted:
            update.shared = shared.get(update.case_id, no_shared())
            update.timeline = lines.get(update.case_id, [])
            update.settled = True

    def closing(self, *, flush: bool = False) -> Iterator[list[CaseUpdate]]:
        """``advance`` one step at a time: closes one window a step, so a caller can
        time each, and yields the updates of the ticks analysed by then. With
        ``flush``, a last step runs the tick of a partial tick span. Ticks are
        analysed on another thread: ``settle`` returns the updates of those still
        being analysed, and the caller settles before it writes what was yielded."""
        if self.max_event is None:
            return
        width = self.config.window_seconds
        limit = self.max_event + width if flush else self.watermark
        assert limit is not None
        ahead = self._aggregate([w for w in sorted(self.open_) if (w + 1) * width <= limit])
        try:
            while ahead:
                self._close(ahead.pop(0))
                yield self._finished()
        finally:
            # Left part way (the caller stopped, or a tick failed): the windows not
            # closed go back as they were, to be closed again.
            for window in ahead:
                window.aggregate.cancel()
                self.open_[window.index] = [window.frame]
        if (
            flush
            and self.closed_until is not None
            and (self.closed_until != self.last_tick_end_ or self.late_)
        ):
            self._tick(self.closed_until)
            yield self._finished()

    def released_models(self) -> dict[str, float]:
        """Models first seen after the stream settled (the first ``new_model_days``),
        with the event time each was first seen: the releases a reviewer sees as
        markers on a case's timeline. Models present from the start are left out."""
        if self.first_window is None:
            return {}
        settled = self.first_window + self.config.new_model_days * DAY
        return {m: t for m, t in sorted(self.model_first_seen_.items()) if t >= settled}

    def _aggregate(self, due: list[int]) -> list[Closing]:
        """Take the windows ``due`` out of the open ones and start their aggregates on
        the aggregating thread, in order. Which models count as new in a window
        depends on the windows before it, so that is worked out here, in order too,
        on a copy: the engine itself learns of a model when its window closes."""
        width = self.config.window_seconds
        first_window = self.first_window
        seen = dict(self.model_first_seen_)
        taken = []
        for w in due:
            start = float(w * width)
            frame = pl.concat(self.open_.pop(w))
            if first_window is None:
                first_window = start
            firsts = [
                (model, float(first))
                for model, first in frame.group_by("model").agg(pl.col("ts").min()).iter_rows()
                if model is not None
            ]
            for model, first in firsts:
                seen.setdefault(model, first)
            new_models = self._new_models(seen, first_window=first_window, start=start)
            aggregate = _AGGREGATOR.submit(
                aggregate_window, frame, start=start, new_models=new_models
            )
            taken.append(Closing(w, frame, firsts, aggregate))
        return taken

    def _new_models(
        self, seen: dict[str, float], *, first_window: float, start: float
    ) -> frozenset[str]:
        """The models that count as new in the window starting at ``start``: first
        seen (``seen``) after the stream settled and within ``new_model_days``."""
        settled = first_window + self.config.new_model_days * DAY
        recent = start - self.config.new_model_days * DAY
        return frozenset(m for m, t in seen.items() if t >= settled and t >= recent)

    # -- windows aggregated elsewhere ------------------------------------------------------

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
        width = self.config.window_seconds
        if self.closed_until is not None and start < self.closed_until:
            raise ValueError(f"window at {start} closed before: windows close in order")
        seen = dict(self.model_first_seen_)
        for model, first in firsts:
            seen.setdefault(model, first)
        first_window = start if self.first_window is None else self.first_window
        done: Future[WindowAggregate] = Future()
        done.set_result(aggregate(self._new_models(seen, first_window=first_window, start=start)))
        empty = pl.DataFrame()
        self._close(Closing(int(start // width), empty, firsts, done))
        return self._finished()

    def close_held(self) -> list[CaseUpdate]:
        """Close every window holding records, in order, whatever the watermark.

        For records handed to ``add`` by a caller that closes windows itself
        (``close_aggregated``): stage 2 adds the records stage 1 found behind the
        watermark, and those whose window never closed here open it again, to be
        closed before any later window, as ``advance`` would have closed them."""
        for window in self._aggregate(sorted(self.open_)):
            self._close(window)
        return self._finished()

    def _close(self, window: Closing) -> None:
        w = window.index
        width = self.config.window_seconds
        start = float(w * width)
        if self.first_window is None:
            self.first_window = start
        for model, first in window.firsts:
            self.model_first_seen_.setdefault(model, first)
        aggregate = window.aggregate.result()
        self.pending_.append(aggregate)
        self.minutes_.append((w, aggregate.minutes))
        self.minutes_ = self.minutes_[-self.config.lockstep_windows :]
        self.closed_until = start + width
        self.windows_closed += 1
        tick = (w + 1) // self.config.tick_windows
        if self.last_tick_ is None:
            self.last_tick_ = tick
        if tick > self.last_tick_:
            self.last_tick_ = tick
            self._tick(start + width)

    # -- a tick: merge, cluster, score, cases -------------------------------------------

    def _corrections(self) -> list[WindowAggregate]:
        """The late records, aggregated in the windows they belong to. They count
        towards sums, day shapes and keys; not towards lockstep, which compares the
        minutes of the last windows only, nor towards a model pivot."""
        late, self.late_ = self.late_, []
        if not late:
            return []
        width = self.config.window_seconds
        frame = pl.concat(late).with_columns((pl.col("ts") // width).cast(pl.Int64).alias("_w"))
        return [
            aggregate_window(part.drop("_w"), start=float(int(w) * width))
            for (w,), part in sorted(frame.partition_by("_w", as_dict=True).items())
        ]

    def _merge(self, end: float) -> None:
        config = self.config
        windows, self.pending_ = self.pending_ + self._corrections(), []
        if windows:
            self.accounts_ = merge_accounts(self.accounts_, windows)
            self.keys_ = merge_keys(self.keys_, windows, top_k=config.top_k)
            days = [
                w.accounts.select(
                    "account_id", pl.lit(int(w.start // DAY), pl.Int64).alias("day"), "records"
                )
                for w in windows
            ]
            for (day,), fresh in pl.concat(days).partition_by("day", as_dict=True).items():
                held = self.daily_.get(int(day))
                both = fresh if held is None else pl.concat([held, fresh])
                self.daily_[int(day)] = both.group_by("account_id", "day").agg(
                    pl.col("records").sum()
                )
            first_day = int((end - config.retention_days * DAY) // DAY)
            self.daily_ = {day: f for day, f in self.daily_.items() if day >= first_day}
        # Accounts idle past the retention horizon leave the state: memory stays flat.
        # They go once the oldest has been idle a day past it, so that the whole key
        # state is filtered about once a day rather than at every tick (at every tick a
        # few accounts cross the horizon; the filter cost 75 ms a tick at scale 1.0).
        # Idle accounts are never active, so none is clustered or scored meanwhile;
        # one that comes back within that day carries on with its counts instead of
        # starting afresh.
        horizon = end - config.retention_days * DAY
        if self.accounts_.height and float(self.accounts_["last_seen"].min()) < horizon - DAY:  # type: ignore[arg-type]
            self.accounts_ = self.accounts_.filter(pl.col("last_seen") >= horizon)
            # Matched on the account hash the key state carries: integers, not strings.
            # An idle account sharing a live one's hash would merely stay a while.
            self.keys_ = self.keys_.keep_accounts(self.accounts_.select(ACCOUNT_HASH))

    def _tick(self, end: float) -> None:
        """Merge the closed windows into the state, then hand the tick's analysis
        (``_analyse``) to the analysing thread with a view of that state."""
        self._check_failed()
        self.last_tick_end_ = end
        self._merge(end)
        view = TickView(
            end=end,
            accounts=self.accounts_,
            keys=self.keys_.rows,
            meta=self.meta_,
            meta_keys=self.meta_keys_,
            minutes=list(self.minutes_),
            daily=self._daily(),
            releases=self.released_models(),
        )
        # One tick analysed at a time: were the analysis slower than merging, views
        # would pile up, each holding a whole key state.
        self._reap(keep=0)
        self.inflight_.append(_ANALYSER.submit(self._analyse, view))

    def _analyse(self, view: TickView) -> list[CaseUpdate]:
        """Cluster the active accounts, score the clusters, open and update cases.
        Runs on the analysing thread, one tick after another: reads only ``view``
        and the engine's configuration, and alone changes the registry, the scorer,
        the cases and the unsettled updates."""
        end = view.end
        config = self.config
        active = view.accounts.filter(pl.col("last_seen") >= end - config.active_days * DAY)
        if active.height < 2:
            return []
        ids = active.select("account_id")
        meta = view.meta.join(ids, on="account_id", how="semi")
        # Carried with their match hashes, which linkage and features group on.
        state = view.keys.select("account_id", "kind", "value", "records", "_acct", "_tie")
        live = active.select(ACCOUNT_HASH)["_acct"].implode()
        if active.height < view.accounts.height:
            state = state.filter(pl.col("_acct").is_in(live))
        # The metadata also lists accounts with no traffic: its keys are always filtered.
        signed = view.meta_keys.filter(pl.col("_acct").is_in(live))
        keys = pl.concat([state, signed])
        linking = keys.filter(pl.col("kind").is_in(LINKING_KINDS))
        found = join_operations(
            prune(components(linking, active.height, config.linkage), keys), keys
        )
        mapping = self.registry.assign(found)
        members = found.with_columns(
            pl.col("component").replace_strict(mapping, return_dtype=pl.String).alias("cluster_id")
        ).select("account_id", "cluster_id")
        sized = members.filter(pl.len().over("cluster_id") >= config.min_case_accounts)
        if sized.is_empty() and not self.cases_:
            return []
        minutes = pl.concat(
            [
                m.with_columns((pl.col("minute") + 60 * (w - view.minutes[0][0])).alias("slot"))
                for w, m in view.minutes
            ]
        ).select("account_id", pl.col("slot").cast(pl.Int64), pl.col("records").cast(pl.Int64))
        features = cluster_features(sized, active, keys, meta, minutes)
        due: list[tuple[CaseInfo, dict[str, Any], ClusterScore]] = []
        for row in features.iter_rows(named=True):
            # Scored one by one, in cluster order: learning from one cluster changes
            # the anomaly score of the next.
            result = self.scorer.score_one(row)
            cluster_id = row["cluster_id"]
            info = self.cases_.get(cluster_id)
            if info is None and result.score >= config.threshold:
                accounts = set(sized.filter(pl.col("cluster_id") == cluster_id)["account_id"])
                info = continued_case(self.cases_.values(), accounts)
                if info is None:
                    info = CaseInfo(
                        case_id=f"C{self.next_case_:06d}", opened_at=end, peak_score=0.0
                    )
                    self.next_case_ += 1
                self.cases_[cluster_id] = info
            if info is None:
                self.scorer.learn_one(row)
                continue
            due.append((info, row, result))
        return self._updates(due, members, view, keys, active)

    def _campaign(self, case_id: str) -> dict[str, Any]:
        """``campaign_id`` and ``campaign_cases`` of a case's update."""
        members = self.campaigns_.members(case_id)
        if len(members) < 2:
            return {"campaign_id": None, "campaign_cases": []}
        return {"campaign_id": members[0], "campaign_cases": members}

    def _daily(self) -> pl.DataFrame:
        """Records per account and day, every day retained, in one frame."""
        if not self.daily_:
            return pl.DataFrame(schema=DAILY_SCHEMA)
        return pl.concat(self.daily_.values(), rechunk=False)

    def _population_mix(self, active: pl.DataFrame) -> dict[str, float]:
        """``pop_<capability>``: the share of records exercising each capability over
        the active accounts outside every case, the baseline a case's mix is read
        against (on the case page, next to the case's own ``capability_mix``)."""
        flagged = sorted({a for info in self.cases_.values() for a in info.accounts})
        honest = active.filter(~pl.col("account_id").is_in(flagged))
        sums = honest.select(
            pl.col("records").sum(), *[pl.col(f"cap_{n}").sum() for n in CAPABILITIES]
        ).row(0)
        total = max(1, int(sums[0] or 0))
        return {
            f"pop_{name}": round(float(value or 0) / total, 4)
            for name, value in zip(CAPABILITIES, sums[1:], strict=True)
        }

    def _updates(
        self,
        due: list[tuple[CaseInfo, dict[str, Any], ClusterScore]],
        members: pl.DataFrame,
        view: TickView,
        keys: pl.DataFrame,
        active: pl.DataFrame,
    ) -> list[CaseUpdate]:
        """The updates of the cases whose clusters were scored at this tick. Their
        evidence (shared infrastructure, timelines) is gathered for all of them in one
        pass over the state, not one pass per case, and only once it is known that no
        later update supersedes them (``settle``)."""
        if not due:
            return []
        self._settle(superseded=frozenset(info.case_id for info, _, _ in due))
        context = self._population_mix(active) | {
            f"release_{model}": first for model, first in view.releases.items()
        }
        wanted = [row["cluster_id"] for _, row, _ in due]
        current: dict[str, list[str]] = dict(
            members.filter(pl.col("cluster_id").is_in(wanted))
            .group_by("cluster_id")
            .agg(pl.col("account_id").sort())
            .iter_rows()
        )
        opened: dict[str, bool] = {}
        new: dict[str, set[str]] = {}
        # Which cases hold each account, built once a tick rather than once a cluster.
        holders: dict[str, set[str]] = {}
        for known in {i.case_id: i for i in self.cases_.values()}.values():
            for account in known.accounts:
                holders.setdefault(account, set()).add(known.case_id)
        for info, row, result in due:
            accounts = current.get(row["cluster_id"], [])
            # A cluster holding accounts of other cases joins their campaigns.
            linked: set[str] = set().union(*(holders.get(a, set()) for a in accounts))
            self.campaigns_.join([info.case_id, *sorted(linked)])
            opened.setdefault(info.case_id, not info.accounts)
            new.setdefault(info.case_id, set()).update(set(accounts) - info.accounts)
            info.accounts.update(accounts)
            info.peak_score = max(info.peak_score, result.score)
        # A case that several clusters continue reports its highest-scoring one.
        best: dict[str, tuple[CaseInfo, dict[str, Any], ClusterScore]] = {}
        for entry in due:
            held = best.get(entry[0].case_id)
            if held is None or entry[2].score > held[2].score:
                best[entry[0].case_id] = entry
        due = list(best.values())
        owners = pl.DataFrame(
            {
                "case_id": [info.case_id for info, _, _ in due for _ in info.accounts],
                "account_id": [a for info, _, _ in due for a in sorted(info.accounts)],
            },
            schema=OWNERS_SCHEMA,
        )
        # Accounts that left the running state keep the count they last had.
        by_case = {info.case_id: info for info, _, _ in due}
        for case_id, account, records in (
            owners.join(view.accounts.select("account_id", "records"), on="account_id")
            .select("case_id", "account_id", "records")
            .iter_rows()
        ):
            by_case[case_id].records[account] = records
        updates = []
        for info, row, result in due:
            everyone = sorted(info.accounts)
            records = {account: info.records.get(account, 0) for account in everyone}
            features = {name: round(float(row[name]), 4) for name in FEATURE_NAMES}
            updates.append(
                CaseUpdate(
                    case_id=info.case_id,
                    cluster_id=row["cluster_id"],
                    opened=opened[info.case_id],
                    event_time=view.end,
                    opened_at=info.opened_at,
                    score=result.score,
                    peak_score=info.peak_score,
                    account_count=len(everyone),
                    record_count=int(sum(records.values())),
                    capability_mix=capability_mix(row),
                    reasons=result.reasons,
                    features=features | context,
                    shared=no_shared(),
                    timeline=[],
                    signatures=result.signatures,
                    new_accounts=sorted(new[info.case_id]),
                    account_records={a: int(n) for a, n in records.items()},
                    **self._campaign(info.case_id),
                )
            )
        self.unsettled_ = Unsettled(updates, owners, keys, view.daily)
        return updates
