"""Typed SQLAlchemy models. The schema itself is created only by Alembic migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Float, Integer, LargeBinary, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# A naming convention keeps constraint names identical on SQLite and PostgreSQL,
# so Alembic diffs stay stable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# On SQLite only "INTEGER PRIMARY KEY" is an alias of the rowid (and autoincrements);
# "BIGINT PRIMARY KEY" would be a separate index with no automatic ids.
Int64Key = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class EventKey(Base):
    """One row per accepted record: its event-time second and a 64-bit BLAKE2b of its
    ``event_id``. Ordered by time first, so that new keys land at the right edge of
    the B-tree (traffic arrives roughly in event time) instead of on random pages: a
    random 64-bit key dirties one page per record and the write-ahead log grows by
    kilobytes a record once the table is large. See docs/architecture.md."""

    __tablename__ = "event_keys"
    __table_args__ = ({"sqlite_with_rowid": False},)

    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class Segment(Base):
    """One accepted batch of the event log: its records as zstd-compressed NDJSON."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(Int64Key, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    record_count: Mapped[int] = mapped_column(Integer)
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0)
    rejected_count: Mapped[int] = mapped_column(Integer, default=0)
    ts_min: Mapped[float | None] = mapped_column(Float(precision=53))
    ts_max: Mapped[float | None] = mapped_column(Float(precision=53))
    encoding: Mapped[str] = mapped_column(String(32))
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)


class AccountRow(Base):
    """Sign-up and billing metadata, upserted by ``account_id``."""

    __tablename__ = "accounts"

    account_id: Mapped[str] = mapped_column(String(1024), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    org_id: Mapped[str | None] = mapped_column(String(1024))
    payment_fingerprint: Mapped[str | None] = mapped_column(String(1024), index=True)
    email_domain: Mapped[str | None] = mapped_column(String(1024))
    signup_ip: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    program: Mapped[str | None] = mapped_column(String(1024))
    verified: Mapped[bool | None]
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
