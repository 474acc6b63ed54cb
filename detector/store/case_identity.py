"""Case identity kept by the store: which case ids are taken, and the cases a rebuilt
pipeline state must continue rather than number afresh.

A case id outlives every pipeline state. A state that cannot be restored (a new
layout after an upgrade, a checkpoint the libraries can no longer read) is rebuilt by
replaying the event log; the cases the store already holds are handed to the new
state first, so a replayed campaign continues its case and an unrelated one can
never be written into another's row. Functions never commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import Connection, delete, select

from detector.store.pipeline_models import CaseAccountRow, CaseRow, ProcessedSegmentRow
from detector.store.reviews import aware

_NUMBERED = re.compile(r"C(\d+)")


@dataclass(frozen=True, slots=True)
class KnownCase:
    case_id: str
    opened_at: float
    peak_score: float
    accounts: frozenset[str] = field(default_factory=frozenset)


def next_case_number(conn: Connection) -> int:
    """One past the highest number of the ``C000123`` ids the store holds (1 for none)."""
    highest = 0
    for (case_id,) in conn.execute(select(CaseRow.case_id)):
        match = _NUMBERED.fullmatch(case_id)
        if match is not None:
            highest = max(highest, int(match.group(1)))
    return highest + 1


def known_cases(conn: Connection) -> list[KnownCase]:
    """Every case in the store with its accounts, oldest id first."""
    members: dict[str, set[str]] = {}
    for case_id, account_id in conn.execute(
        select(CaseAccountRow.case_id, CaseAccountRow.account_id)
    ):
        members.setdefault(case_id, set()).add(account_id)
    rows = conn.execute(
        select(CaseRow.case_id, CaseRow.opened_at, CaseRow.peak_score).order_by(CaseRow.case_id)
    ).all()
    return [
        KnownCase(
            case_id=case_id,
            opened_at=aware(opened_at).timestamp(),
            peak_score=float(peak or 0.0),
            accounts=frozenset(members.get(case_id, ())),
        )
        for case_id, opened_at, peak in rows
    ]


def replay_from_start(conn: Connection) -> int:
    """Mark every segment unprocessed, so that a rebuilt state takes in the whole event
    log again; returns how many were marked processed before."""
    result = conn.execute(delete(ProcessedSegmentRow))
    return int(result.rowcount or 0)
