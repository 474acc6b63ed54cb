"""The blocklist: every account of every case whose latest decision is ``block``.

A later decision on the case (accept, watch, escalate) takes its accounts off the
list; reopening a case does not, because reopening asks for a new review, it does not
revoke the block. Accounts that join a blocked case later (a banned hydra account's
replacement) are on the list at once, and the case comes back to the queue as
regressed so that a reviewer confirms it.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from detector.store.pipeline_models import CaseAccountRow, DecisionRow
from detector.store.reviews import aware

CSV_COLUMNS = ("account_id", "case_id", "decision_id", "blocked_at", "actor")


@dataclass(frozen=True, slots=True)
class Blocked:
    account_id: str
    case_id: str
    decision_id: int
    blocked_at: datetime
    actor: str

    def as_dict(self) -> dict[str, object]:
        return {
            "account_id": self.account_id,
            "case_id": self.case_id,
            "decision_id": self.decision_id,
            "blocked_at": self.blocked_at.isoformat(),
            "actor": self.actor,
        }


def blocked_accounts(conn: Connection, *, since: datetime | None = None) -> list[Blocked]:
    """One entry per account (its earliest standing block), ordered by account id."""
    latest = (
        select(DecisionRow.case_id, func.max(DecisionRow.id).label("last"))
        .group_by(DecisionRow.case_id)
        .subquery()
    )
    standing = (
        select(DecisionRow.id, DecisionRow.case_id, DecisionRow.created_at, DecisionRow.actor)
        .join(latest, DecisionRow.id == latest.c.last)
        .where(DecisionRow.action == "block")
    )
    if since is not None:
        standing = standing.where(DecisionRow.created_at >= since)
    blocks = standing.subquery()
    rows = conn.execute(
        select(
            CaseAccountRow.account_id,
            blocks.c.case_id,
            blocks.c.id,
            blocks.c.created_at,
            blocks.c.actor,
        )
        .join(blocks, CaseAccountRow.case_id == blocks.c.case_id)
        .order_by(CaseAccountRow.account_id, blocks.c.id)
    )
    entries: list[Blocked] = []
    for account_id, case_id, decision_id, created_at, actor in rows:
        if entries and entries[-1].account_id == account_id:
            continue
        entries.append(Blocked(account_id, case_id, int(decision_id), aware(created_at), actor))
    return entries


def to_csv(entries: list[Blocked]) -> Iterator[str]:
    """CSV text in chunks, header first (RFC 4180 quoting)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for start in range(0, max(len(entries), 1), 1000):
        for entry in entries[start : start + 1000]:
            writer.writerow(
                [
                    _cell(entry.account_id),
                    _cell(entry.case_id),
                    entry.decision_id,
                    entry.blocked_at.isoformat(),
                    _cell(entry.actor),
                ]
            )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


_FORMULA = frozenset("=+-@")


def _cell(value: str) -> str:
    """``value`` made safe to open in a spreadsheet (CSV injection, OWASP).

    A cell whose first character is = + - @ runs as a formula. Spreadsheets skip
    leading blanks before reading it, and fold full-width forms (＝, ＋) onto the
    ASCII ones, so the first character after blanks is taken in NFKC. A leading
    quote keeps such a cell text; so does one starting with a tab or a line break.
    """
    if value[:1] in ("\t", "\r", "\n"):
        return "'" + value
    head = value.lstrip()[:1]
    if head and unicodedata.normalize("NFKC", head)[:1] in _FORMULA:
        return "'" + value
    return value
