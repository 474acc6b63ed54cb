"""Stage 1's clock and windows: each account's records held until their window closes.

The rules are the embedded engine's (``pipeline.engine``), applied per account with
Spark's event-time watermark, which is the engine's: the latest event time seen in
earlier micro-batches minus the allowed lateness, the same for every account.

- A record whose window ended at or before the watermark (rounded down to a window)
  is behind it: it is handed out at once, as it is, for stage 2 to give to the engine
  (``Engine.add``). Whether it is a late correction, and which other late records it
  is aggregated with, depends on which windows held records anywhere and on when the
  next tick runs, which only stage 2 knows; such records are few.
- Any other record is held in its window, which is handed out once the watermark
  passes its end.

Spark drops records behind the watermark before a stateful operator that sees the
watermark's column; stage 1 hands this one the event time as a plain number
(``stage1.records``), so records behind it reach it and are kept, never lost.
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

from detector.pipeline.engine import EngineConfig
from detector.scaleout.frames import from_ipc, to_ipc

# What the windower hands out: one row per account and closed window, or per account
# and batch for records behind the watermark (``behind``).
HELD_SCHEMA = (
    "account_id string, window_start double, behind boolean, watermark double, payload binary"
)


@dataclass(frozen=True, slots=True)
class Clock:
    """The engine's windows in event-time seconds (``EngineConfig.window_seconds``)."""

    window_seconds: int

    @classmethod
    def of(cls, config: EngineConfig) -> Clock:
        return cls(config.window_seconds)

    def passed(self, watermark: float | None) -> float | None:
        """The end of the last window ``watermark`` passed (None: none)."""
        if watermark is None:
            return None
        return math.floor(watermark / self.window_seconds) * self.window_seconds

    def split(
        self, records: pl.DataFrame, watermark: float | None
    ) -> tuple[dict[int, pl.DataFrame], pl.DataFrame]:
        """``records`` held in their open windows (by window index), and those behind
        the watermark."""
        width = self.window_seconds
        frame = records.with_columns((pl.col("ts") // width).cast(pl.Int64).alias("_w"))
        passed = self.passed(watermark)
        behind = frame.clear().drop("_w")
        if passed is not None:
            late = pl.col("_w") < int(passed // width)
            behind = frame.filter(late).drop("_w")
            frame = frame.filter(~late)
        windows = {
            int(w): part.drop("_w") for (w,), part in frame.partition_by("_w", as_dict=True).items()
        }
        return windows, behind


_COLUMNS = ["account_id", "window_start", "behind", "watermark", "payload"]


def _watermark(values: TimerValues) -> float | None:
    # Spark reports no watermark as 0 or less, before any event time was seen.
    ms = values.getCurrentWatermarkInMs()
    return ms / 1000 if ms > 0 else None


class Windower(StatefulProcessor):
    """``transformWithStateInPandas`` keyed by account: holds the account's records of
    each open window as one Arrow IPC value in a map state, with an event-time timer
    at the window's end, when they are handed out."""

    def __init__(self, clock: Clock, schema: pa.Schema) -> None:
        self.clock = clock
        self.schema = schema

    def init(self, handle: StatefulProcessorHandle) -> None:
        self.handle = handle
        self.open = handle.getMapState("open", "window long", "payload binary")

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
        windows, behind = self.clock.split(records, watermark)
        width = self.clock.window_seconds
        for w, frame in windows.items():
            self._hold(self.open, w, frame)
            self.handle.registerTimer((w + 1) * width * 1000)
        if behind.is_empty():
            return iter([])
        row = (key[0], -1.0, True, watermark, to_ipc(behind))
        return iter([pd.DataFrame([row], columns=_COLUMNS)])

    def handleExpiredTimer(
        self, key: Any, timerValues: TimerValues, expiredTimerInfo: ExpiredTimerInfo
    ) -> Iterator[pd.DataFrame]:
        end = expiredTimerInfo.getExpiryTimeInMs() // 1000
        watermark = _watermark(timerValues)
        width = self.clock.window_seconds
        window = end // width - 1
        held = self.open.getValue((window,))
        if held is None:
            return iter([])
        self.open.removeKey((window,))
        row = (key[0], float(window * width), False, watermark, held[0])
        return iter([pd.DataFrame([row], columns=_COLUMNS)])

    def close(self) -> None:
        pass
