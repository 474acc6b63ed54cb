"""Tables of the detection pipeline: cases, their accounts, reviewers' decisions, and
the pipeline's own progress (processed segments, checkpointed state, the worker lease).

Created by migration 0002; the dashboard reads ``cases`` and ``case_accounts`` and
writes ``decisions``, which the scorer reads back as labels.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from detector.store.models import Base, Int64Key

# ``cleared``: the pipeline took the case out of the open queue because its cluster
# stayed under the threshold (see ``store.cases.clear_quiet_cases``).
CASE_STATUSES = ("open", "in_review", "snoozed", "closed", "cleared")
DECISION_ACTIONS = ("accept", "watch", "block", "escalate")


class CaseRow(Base):
    """A flagged cluster with its evidence (CONTRACT.md §5).

    JSON columns, as the pipeline writes them:

    - ``capability_mix``: capability name → share of the cluster's records (0–1);
    - ``reasons``: short sentences a reviewer reads, most telling first;
    - ``features``: the cluster's feature vector (name → number) the score came from;
    - ``shared``: infrastructure its accounts share, by kind
      (``payment``, ``ip_prefix``, ``client``, ``template``, ``system``), each a list
      of ``{"value": str, "accounts": int, "records": int}``;
    - ``timeline``: ``[{"day": "YYYY-MM-DD", "records": int, "accounts": int}, ...]``;
    - ``signatures``: names of the explicit campaign signatures that matched;
    - ``contributions``: the score's log-odds as signed terms,
      ``[{"name", "weight", "direction", "reason", "feature", "value"}, ...]``.
    """

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'in_review', 'snoozed', 'closed', 'cleared')",
            name="status_known",
        ),
        CheckConstraint("score >= 0 AND score <= 1", name="score_unit"),
    )

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cluster_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default="open")
    score: Mapped[float] = mapped_column(Float)
    peak_score: Mapped[float] = mapped_column(Float)
    # Event time (the end of the window in which the cluster first crossed the threshold).
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # Event time of the last tick at which its cluster scored at or over the threshold:
    # a case whose cluster stays under it long enough is cleared.
    last_flagged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The oldest case of the campaign this one belongs to (cases whose clusters came
    # to share accounts); None while it stands alone.
    campaign_id: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    # Event time of the last window that changed the case.
    last_event_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Wall-clock time of the last write (pipeline or reviewer).
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    account_count: Mapped[int] = mapped_column(Integer)
    record_count: Mapped[int] = mapped_column(Int64Key)
    capability_mix: Mapped[dict[str, Any]] = mapped_column(JSON)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    features: Mapped[dict[str, Any]] = mapped_column(JSON)
    shared: Mapped[dict[str, Any]] = mapped_column(JSON)
    timeline: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    signatures: Mapped[list[str]] = mapped_column(JSON)
    # The terms of the score's log-odds, signed (``scoring.contributions``); None for
    # cases written before migration 0007_reviewer.
    contributions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    # Wall-clock time the case was first written: how long it has waited for review
    # (``opened_at`` is event time, which a replay of old logs puts months back).
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class CaseAccountRow(Base):
    """One account of a case, with the event time it joined and its record count."""

    __tablename__ = "case_accounts"

    case_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("cases.case_id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(String(1024), primary_key=True, index=True)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    record_count: Mapped[int] = mapped_column(Int64Key, default=0)
    # Event time of the last window the account was active in, as the pipeline last
    # saw it (migration 0007_reviewer); None before then.
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class DecisionRow(Base):
    """A reviewer's decision on a case: who, when, what and why. Labels for the scorer."""

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint("action IN ('accept', 'watch', 'block', 'escalate')", name="action_known"),
    )

    id: Mapped[int] = mapped_column(Int64Key, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("cases.case_id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ProcessedSegmentRow(Base):
    """A segment of the event log the pipeline has folded into its state.

    Progress is a set, not a high-water mark: on PostgreSQL, segment ids drawn from a
    sequence can commit out of order, so a segment with a lower id may appear after a
    higher one was processed.
    """

    __tablename__ = "pipeline_segments"

    segment_id: Mapped[int] = mapped_column(Int64Key, primary_key=True, autoincrement=False)
    record_count: Mapped[int] = mapped_column(Integer)
    late_count: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PipelineStateRow(Base):
    """Checkpointed pipeline state, one row per name (``"main"``).

    ``state`` is the pickled running state (per-account sketches, open windows,
    cluster registry, scorer); it is written in the same transaction as the segments
    it covers, so a restart resumes exactly where the last checkpoint left off.
    """

    __tablename__ = "pipeline_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    watermark: Mapped[float | None] = mapped_column(Float(precision=53))
    max_event: Mapped[float | None] = mapped_column(Float(precision=53))
    processed: Mapped[int] = mapped_column(Int64Key, default=0)
    late: Mapped[int] = mapped_column(Int64Key, default=0)
    windows_closed: Mapped[int] = mapped_column(Integer, default=0)
    # Highest decision id already folded into the scorer's labels.
    decisions_seen: Mapped[int] = mapped_column(Int64Key, default=0)
    state: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PipelineLeaseRow(Base):
    """The lease that makes one worker at a time the active one.

    A worker takes the row when it is free or expired and renews it while it runs;
    a crashed worker's lease lapses after its time-to-live.
    """

    __tablename__ = "pipeline_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(256))
    expires_at: Mapped[float] = mapped_column(Float(precision=53))


class QuarantineRow(Base):
    """A record (``line`` of segment ``segment_id``) or a whole segment (``line`` is
    None) that a pipeline step failed on, set aside so that the records after it go
    on. Created by migration 0006_quarantine; written in the checkpoint that marks its
    segment processed, so a record is either taken in or here, never both or neither.

    ``stage`` names what failed (``decode``: the segment's payload; ``parse``: the
    record's JSON against the record schema; ``prepare``: the engine's per-record
    work); ``payload`` is the record's stored NDJSON line, kept for inspection.
    """

    __tablename__ = "pipeline_quarantine"

    id: Mapped[int] = mapped_column(Int64Key, primary_key=True, autoincrement=True)
    segment_id: Mapped[int] = mapped_column(Int64Key, index=True)
    line: Mapped[int | None] = mapped_column(Integer)
    record_count: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str | None] = mapped_column(String(128))
    stage: Mapped[str] = mapped_column(String(32))
    error: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    quarantined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
