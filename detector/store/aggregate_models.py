"""Tables of the scaled-out deployment (detector/scaleout): stage 1's committed
micro-batches and the window aggregates each wrote, which stage 2 reads.

Created by migration 0008_window_aggregates. An aggregate is stored as a frame per
window, part and batch (Arrow IPC), not a column per feature: its columns follow
detector/features, and a table per feature set would need a migration at every
change there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Float, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from detector.store.models import Base, Int64Key


class Stage1Batch(Base):
    """A micro-batch of stage 1 whose aggregates are committed: written in the same
    transaction as them, so a batch Spark runs again after a failure writes nothing
    twice. ``watermark``: the event-time watermark the batch closed windows under."""

    __tablename__ = "stage1_batches"

    batch_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    watermark: Mapped[float | None] = mapped_column(Float(precision=53))
    windows: Mapped[int] = mapped_column(Integer)
    committed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Stage2State(Base):
    """Stage 2's checkpoint: the engine (``Engine.snapshot``) and the last stage-1
    batch it took in, written with the case updates that batch led to."""

    __tablename__ = "stage2_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    after_batch: Mapped[int] = mapped_column(BigInteger)
    decisions_seen: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WindowAggregateRow(Base):
    """One part (``accounts``, ``keys``, ``minutes``, ``models``) of the aggregate of
    a window one batch closed; or, as part ``behind`` with no window, the records
    that batch found behind the watermark (narrow, as they are), for stage 2's engine
    to take in."""

    __tablename__ = "window_aggregates"

    id: Mapped[int] = mapped_column(Int64Key, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(BigInteger, index=True)
    window_start: Mapped[float | None] = mapped_column(Float(precision=53))
    part: Mapped[str] = mapped_column(String(16))
    rows: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
