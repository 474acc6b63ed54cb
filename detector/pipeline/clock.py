"""The event clock and its windows: records held in their window until the watermark
passes its end, closed windows' aggregates waiting for their tick, late records.

Owned by the caller's thread (``pipeline.threads``); a closing window's aggregate is
computed on the aggregating thread from that window's records alone.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache

import polars as pl

from detector.features.frames import RECORD_SCHEMA, narrow
from detector.features.windows import WindowAggregate, aggregate_window, with_key_hashes
from detector.pipeline.config import DAY, EngineConfig
from detector.pipeline.snapshot import Reader, Writer

# The key columns of a window's aggregate that are stored: the hashes are computed
# again from them on restore (``pipeline.snapshot``).
_KEY_COLUMNS = ("account_id", "kind", "value", "records")


@dataclass(frozen=True, slots=True)
class Closing:
    """A window taken out of the open ones: its records, the models it saw first
    (with when), and its aggregate, being computed."""

    index: int
    frame: pl.DataFrame
    firsts: list[tuple[str, float]]
    aggregate: Future[WindowAggregate]


@dataclass
class EventClock:
    """Windows of event time, the watermark, and what waits for the next tick."""

    config: EngineConfig = field(default_factory=EngineConfig)
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
    model_first_seen_: dict[str, float] = field(default_factory=dict)
    last_tick_: int | None = None
    last_tick_end_: float | None = None

    @property
    def watermark(self) -> float | None:
        if self.max_event is None:
            return None
        return self.max_event - self.config.lateness_seconds

    def add(self, records: pl.DataFrame) -> int:
        """Hold records (entities already resolved) in their windows; returns how
        many were late. See ``Engine.add``."""
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

    def due(self, *, flush: bool) -> list[int]:
        """The open windows the watermark has passed (with ``flush``, every window up
        to the latest event seen), in order."""
        if self.max_event is None:
            return []
        width = self.config.window_seconds
        limit = self.max_event + width if flush else self.watermark
        assert limit is not None
        return [w for w in sorted(self.open_) if (w + 1) * width <= limit]

    def take(self, due: list[int], aggregator: ThreadPoolExecutor) -> list[Closing]:
        """Take the windows ``due`` out of the open ones and start their aggregates on
        the aggregating thread, in order. Which models count as new in a window
        depends on the windows before it, so that is worked out here, in order too,
        on a copy: the clock itself learns of a model when its window closes."""
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
            aggregate = aggregator.submit(
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

    def aggregated(
        self,
        start: float,
        firsts: list[tuple[str, float]],
        aggregate: Callable[[frozenset[str]], WindowAggregate],
    ) -> Closing:
        """A window whose records were aggregated elsewhere (``Engine.close_aggregated``),
        ready to ``close``: ``aggregate`` is told which models count as new in it,
        worked out as ``take`` works it out for the window after the last closed."""
        if self.closed_until is not None and start < self.closed_until:
            raise ValueError(f"window at {start} closed before: windows close in order")
        seen = dict(self.model_first_seen_)
        for model, first in firsts:
            seen.setdefault(model, first)
        first_window = start if self.first_window is None else self.first_window
        done: Future[WindowAggregate] = Future()
        done.set_result(aggregate(self._new_models(seen, first_window=first_window, start=start)))
        return Closing(int(start // self.config.window_seconds), pl.DataFrame(), firsts, done)

    def reopen(self, window: Closing) -> None:
        """Put back a window taken but not closed, as it was."""
        window.aggregate.cancel()
        self.open_[window.index] = [window.frame]

    def close(self, window: Closing) -> float | None:
        """Close ``window`` once its aggregate is ready; returns the end of the tick
        that falls due with it, if one does."""
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
            return start + width
        return None

    def flush_due(self) -> float | None:
        """The end of the partial tick a flush runs, if one is due: windows closed
        since the last tick, or late records waiting."""
        if self.closed_until is not None and (
            self.closed_until != self.last_tick_end_ or self.late_
        ):
            return self.closed_until
        return None

    def drain(self, end: float) -> list[WindowAggregate]:
        """The aggregates a tick ending at ``end`` merges: the closed windows', then
        the late records' (``corrections``); both are handed over."""
        self.last_tick_end_ = end
        windows, self.pending_ = self.pending_ + self._corrections(), []
        return windows

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

    def released_models(self) -> dict[str, float]:
        """Models first seen after the stream settled (the first ``new_model_days``),
        with the event time each was first seen. Models present from the start are
        left out."""
        if self.first_window is None:
            return {}
        settled = self.first_window + self.config.new_model_days * DAY
        return {m: t for m, t in sorted(self.model_first_seen_.items()) if t >= settled}

    # -- checkpoint -------------------------------------------------------------------

    _VALUES = (
        "max_event",
        "closed_until",
        "late",
        "received",
        "windows_closed",
        "first_window",
        "last_tick_",
        "last_tick_end_",
        "model_first_seen_",
    )

    def snapshot(self) -> bytes:
        """The clock as a versioned envelope (``pipeline.snapshot``): the open and
        late records and the pending aggregates as Arrow IPC frames, the pending key
        counts without their hashes."""
        shapes = _shapes()
        out = Writer("clock")
        out.values = {name: getattr(self, name) for name in self._VALUES}
        out.values["pending_starts"] = [p.start for p in self.pending_]
        opened = [(w, pl.concat(frames)) for w, frames in self.open_.items()]
        out.frame("open", _stack(opened, shapes["records"]))
        # Late records carry the window index they were found late in (``_w``).
        late = pl.concat(self.late_) if self.late_ else _empty(shapes["late"])
        out.frame("late", late)
        pending = list(enumerate(self.pending_))
        out.frame(
            "pending_accounts", _stack([(i, p.accounts) for i, p in pending], shapes["accounts"])
        )
        keys = [(i, p.keys.select(_KEY_COLUMNS)) for i, p in pending]
        out.frame("pending_keys", _stack(keys, shapes["keys"]))
        out.frame(
            "pending_minutes", _stack([(i, p.minutes) for i, p in pending], shapes["minutes"])
        )
        out.frame("minutes", _stack(self.minutes_, shapes["minutes"]))
        return out.finish()

    @classmethod
    def restore(cls, blob: bytes, *, config: EngineConfig, versions: dict[str, str]) -> EventClock:
        """The clock of ``snapshot``; ``StaleState`` when it cannot be read as one."""
        shapes = _shapes()
        data = Reader.open(blob, part="clock", versions=versions)
        clock = cls(config=config, **{name: data.values[name] for name in cls._VALUES})
        clock.open_ = {w: [f] for w, f in _unstack(data.frame("open", _indexed(shapes["records"])))}
        late = data.frame("late", shapes["late"])
        clock.late_ = [late] if late.height else []
        parts = {
            name: dict(_unstack(data.frame(f"pending_{name}", _indexed(shapes[name]))))
            for name in ("accounts", "keys", "minutes")
        }
        clock.pending_ = [
            WindowAggregate(
                start=start,
                accounts=parts["accounts"].get(i, _empty(shapes["accounts"])),
                keys=with_key_hashes(parts["keys"].get(i, _empty(shapes["keys"]))),
                minutes=parts["minutes"].get(i, _empty(shapes["minutes"])),
            )
            for i, start in enumerate(data.values["pending_starts"])
        ]
        clock.minutes_ = _unstack(data.frame("minutes", _indexed(shapes["minutes"])))
        return clock


# The column that says which window (or which pending aggregate) a stacked row is of.
_INDEX = "_i"


def _indexed(schema: pl.Schema) -> pl.Schema:
    return pl.Schema({**schema, _INDEX: pl.Int64()})


def _empty(schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def _stack(parts: list[tuple[int, pl.DataFrame]], schema: pl.Schema) -> pl.DataFrame:
    """Frames of one shape as one, each row tagged with its frame's index."""
    if not parts:
        return _empty(_indexed(schema))
    return pl.concat([f.with_columns(pl.lit(i, pl.Int64).alias(_INDEX)) for i, f in parts])


def _unstack(frame: pl.DataFrame) -> list[tuple[int, pl.DataFrame]]:
    """``_stack`` undone: the frames in the order they were stacked, rows in order."""
    return [
        (int(i), part.drop(_INDEX))
        for (i,), part in frame.partition_by(_INDEX, as_dict=True).items()
    ]


@cache
def _shapes() -> dict[str, pl.Schema]:
    """The schemas of what the clock holds, from this code's own stages: a
    checkpoint whose frames differ was written by other code, and is stale."""
    records = narrow(pl.DataFrame(schema=RECORD_SCHEMA))
    aggregate = aggregate_window(records, start=0.0)
    return {
        "records": records.schema,
        "late": records.with_columns(pl.lit(0, pl.Int64).alias("_w")).schema,
        "accounts": aggregate.accounts.schema,
        "keys": aggregate.keys.select(_KEY_COLUMNS).schema,
        "minutes": aggregate.minutes.schema,
    }
