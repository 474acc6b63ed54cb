"""Account metadata, upserted by ``account_id``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from detector.pipeline.config import META_SCHEMA
from detector.schema import Account
from detector.store.models import AccountRow

_COLUMNS = (
    "org_id",
    "payment_fingerprint",
    "email_domain",
    "signup_ip",
    "country",
    "program",
    "verified",
    "attributes",
)


def upsert_accounts(conn: Connection, *, accounts: Sequence[Account]) -> int:
    """Insert or update ``accounts``; the last of repeated ids wins. Returns rows written."""
    if not accounts:
        return 0
    now = datetime.now(UTC)
    latest: dict[str, dict[str, Any]] = {}
    for account in accounts:
        row: dict[str, Any] = {name: getattr(account, name) for name in _COLUMNS}
        row["account_id"] = account.account_id
        row["created_at"] = datetime.fromtimestamp(float(account.created_at), UTC)
        row["updated_at"] = now
        latest[account.account_id] = row
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(AccountRow)
    updates = {name: stmt.excluded[name] for name in (*_COLUMNS, "created_at", "updated_at")}
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["account_id"], set_=updates),
        list(latest.values()),
    )
    return len(latest)


def signup_meta(conn: Connection) -> pl.DataFrame:
    """Every account's sign-up metadata, in the pipeline's ``META_SCHEMA``."""
    columns = [getattr(AccountRow, name) for name in META_SCHEMA]
    rows = conn.execute(select(*columns)).all()
    return pl.DataFrame(
        [(r[0], r[1].timestamp(), *r[2:]) for r in rows], schema=META_SCHEMA, orient="row"
    )
