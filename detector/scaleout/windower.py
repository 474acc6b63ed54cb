"""Stage 1's clock and windows: each account's records held until their window closes.

The rules are the embedded engine's (``pipeline.engine``), applied per account with
Spark's event-time watermark, which is the engine's: the latest event time seen in
earlier micro-batches minus the allowed lateness, the same for every account.

- A record whose window ended at or before the last closed window's end (the
  watermark rounded down to a window) is late: it is held apart and handed out, as a
  late correction, when the watermark reaches the next tick, the tick at which the
  engine merges its own late records (``Engine._corrections``). Late records older
  than the retention horizon are dropped, as the engine drops them.
- Any other record is held in its window, which is handed out once the watermark
  passes its end.

The engine rounds to the last window that held records anywhere; here it is the last
window the watermark passed. The two agree unless a whole window went by with no
record from any account, which traffic at any scale does not do.

Spark drops records behind the watermark before a stateful operator that sees the
watermark's column; stage 1 hands this one the event time as a plain number
(``stage1.records``), so late records reach it and are corrected, never lost.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
from pyspark.sql.streaming.stateful_processor import (
    ExpiredTimerInfo,
    StatefulProcessor,
    StatefulProcessorHandle,
    TimerValues,
)

from detector.pipeline.engine import DAY, EngineConfig
from detector.scaleout.frames import from_ipc, to_ipc

# What the windower hands out: one row per account and window (or correction).
HELD_SCHEMA = (
    "account_id string, window_start double, tick_end double, watermark double, payload binary"
)


@dataclass(frozen=True, slots=True)
class Clock:
    """The engine's windows and ticks in event-time seconds (``EngineConfig``)."""

    window_seconds: int
    tick_windows: int
    retention_days: float

    @classmethod
    def of(cls, config: EngineConfig) -> Clock:
        return cls(config.window_seconds, config.tick_windows, config.retention_days)

    def closed_until(self, watermark: float | None) -> float | None:
        """The end of the last closed window under ``watermark`` (None: none closed)."""
        if watermark is None:
            return None
        return math.floor(watermark / self.window_seconds) * self.window_seconds

    def next_tick(self, closed_until: float) -> float:
        """The end of the first tick after ``closed_until``: where late records merge."""
        span = self.window_seconds * self.tick_windows
        return (closed_until // span + 1) * span

    def split(
        self, records: pl.DataFrame, watermark: float | None
    ) -> tuple[dict[int, pl.DataFrame], pl.DataFrame]:
        """``records`` held in their open windows (by window index), and the late ones
        still within retention."""
        width = self.window_seconds
        frame = records.with_columns((pl.col("ts") // width).cast(pl.Int64).alias("_w"))
        closed = self.closed_until(watermark)
        late = frame.clear().drop("_w")
        if closed is not None:
            behind = pl.col("_w") < int(closed // width)
            horizon = closed - self.retention_days * DAY
            late = frame.filter(behind & (pl.col("ts") >= horizon)).drop("_w")
            frame = frame.filter(~behind)
        windows = {
            int(w): part.drop("_w") for (w,), part in frame.partition_by("_w", as_dict=True).items()
        }
        return windows, late


def _watermark(values: TimerValues) -> float | None:
    # Spark reports no watermark as 0 or less, before any event time was seen.
    ms = values.getCurrentWatermarkInMs()
    return ms / 1000 if ms > 0 else None


class Windower(StatefulProcessor):
    """``transformWithStateInPandas`` keyed by account: holds the account's records
    of each open window, and its late records by the tick they merge at, each as one
    Arrow IPC value in a map state, with an event-time timer at the window's end (or
    the tick's), when they are handed out."""

    def __init__(self, clock: Clock, schema: pa.Schema) -> None:
        self.clock = clock
        self.schema = schema

    def init(self, handle: StatefulProcessorHandle) -> None:
        self.handle = handle
        self.open = handle.getMapState("open", "window long", "payload binary")
        self.late = handle.getMapState("late", "tick long", "payload binary")

    def _hold(self, state: Any, key: int, frame: pl.DataFrame) -> None:
        held = state.getValue((key,))
        if held is not None:
            frame = pl.concat([from_ipc(held[0]), frame])
        state.updateValue((key,), (to_ipc(frame),))

    def handleInputRows(
        self, key: Any, rows: Iterator[pd.DataFrame], timerValues: TimerValues
    ) -> Iterator[pd.DataFrame]:
        parts = [
            pa.Table.from_pandas(part, schema=self.schema, preserve_index=False) for part in rows
        ]
        records = pl.from_arrow(pa.concat_tables(parts))
        assert isinstance(records, pl.DataFrame)
        watermark = _watermark(timerValues)
        windows, late = self.clock.split(records, watermark)
        width = self.clock.window_seconds
        for w, frame in windows.items():
            self._hold(self.open, w, frame)
            self.handle.registerTimer((w + 1) * width * 1000)
        if late.height:
            closed = self.clock.closed_until(watermark)
            assert closed is not None
            tick = int(self.clock.next_tick(closed))
            self._hold(self.late, tick, late)
            self.handle.registerTimer(tick * 1000)
        return iter([])

    def handleExpiredTimer(
        self, key: Any, timerValues: TimerValues, expiredTimerInfo: ExpiredTimerInfo
    ) -> Iterator[pd.DataFrame]:
        end = expiredTimerInfo.getExpiryTimeInMs() // 1000
        watermark = _watermark(timerValues)
        width = self.clock.window_seconds
        out: list[tuple[str, float, float | None, float | None, bytes]] = []
        window = end // width - 1
        held = self.open.getValue((window,))
        if held is not None:
            self.open.removeKey((window,))
            out.append((key[0], float(window * width), None, watermark, held[0]))
        late = self.late.getValue((end,))
        if late is not None:
            self.late.removeKey((end,))
            frame = from_ipc(late[0])
            for (w,), part in sorted(
                frame.with_columns((pl.col("ts") // width).cast(pl.Int64).alias("_w"))
                .partition_by("_w", as_dict=True)
                .items()
            ):
                out.append(
                    (key[0], float(int(w) * width), float(end), watermark, to_ipc(part.drop("_w")))
                )
        if not out:
            return iter([])
        return iter(
            [
                pd.DataFrame(
                    out, columns=["account_id", "window_start", "tick_end", "watermark", "payload"]
                )
            ]
        )

    def close(self) -> None:
        pass
