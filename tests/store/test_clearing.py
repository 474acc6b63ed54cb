"""Cases whose cluster stops being anomalous leave the queue, by event time: written
as the runner's checkpoint writes them (``write_case_updates`` then
``clear_quiet_cases`` in one transaction), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from detector.pipeline.cases import CaseUpdate
from detector.store.cases import write_case_updates
from detector.store.clearing import Clearing, clear_quiet_cases
from detector.store.db import write_transaction
from detector.store.pipeline_models import CaseRow
from detector.store.reviews import AuditEntry, audit_trail, decide, reopen, snooze, wake_snoozed

pytestmark = pytest.mark.db

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
DAY = 86_400.0
THRESHOLD = 0.7
NOW = datetime(2026, 6, 1, tzinfo=UTC)  # wall-clock of the audit entries only


def tick(case_id: str, day: float, score: float, *, opened_day: float = 0.0) -> CaseUpdate:
    """A case's update at the tick ``day`` days after T0, as the engine settles it."""
    return CaseUpdate(
        case_id=case_id,
        cluster_id=f"k-{case_id}",
        opened=day == opened_day,
        event_time=T0 + day * DAY,
        opened_at=T0 + opened_day * DAY,
        score=score,
        peak_score=max(score, 0.9),
        account_count=3,
        record_count=300,
        capability_mix={"reasoning": 1.0},
        reasons=["3 accounts share one payment instrument"],
        features={"shared_payment": 1.0},
        shared={},
        timeline=[],
        signatures=[],
        new_accounts=["a", "b", "c"] if day == opened_day else [],
        account_records={"a": 100, "b": 100, "c": 100},
        settled=True,
    )


def checkpoint(
    engine: Engine, updates: Sequence[CaseUpdate], *, watermark_day: float, after: float = 7.0
) -> Clearing:
    """What the runner's checkpoint does with the cases, at the watermark given."""
    with write_transaction(engine) as conn:
        write_case_updates(conn, updates=updates)
        return clear_quiet_cases(
            conn,
            updates=updates,
            threshold=THRESHOLD,
            event_time=T0 + watermark_day * DAY,
            clear_after_days=after,
            now=NOW,
        )


def status(engine: Engine, case_id: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(CaseRow.status).where(CaseRow.case_id == case_id)).scalar())


def trail(engine: Engine, case_id: str) -> list[AuditEntry]:
    with engine.connect() as conn:
        return audit_trail(conn, case_id=case_id)


def low_ticks(case_id: str, until_day: float) -> list[CaseUpdate]:
    """The cluster holds but scores 0.0002 at every tick of three hours until then."""
    steps = int(until_day * 8)
    return [tick(case_id, (i + 1) / 8, 0.0002) for i in range(steps)]


@pytest.mark.parametrize("quiet", ["scored-low", "cluster-gone"])
@pytest.mark.parametrize(
    ("after", "days", "expected"),
    [
        (7.0, 6.9, "open"),
        (7.0, 7.1, "cleared"),
        (2.5, 2.4, "open"),
        (2.5, 2.6, "cleared"),
    ],
    ids=["7d-after-6.9", "7d-after-7.1", "2.5d-after-2.4", "2.5d-after-2.6"],
)
def test_a_case_clears_only_once_the_stretch_of_event_time_has_passed(
    engine: Engine, quiet: str, after: float, days: float, expected: str
) -> None:
    checkpoint(engine, [tick("C1", 0.0, 0.92)], watermark_day=0.0, after=after)
    later = low_ticks("C1", days) if quiet == "scored-low" else []
    result = checkpoint(engine, later, watermark_day=days, after=after)
    assert status(engine, "C1") == expected
    assert result.cleared == (["C1"] if expected == "cleared" else [])
    entries = trail(engine, "C1")
    if expected == "open":
        assert entries == []
        return
    [entry] = entries
    assert (entry.actor, entry.action) == ("pipeline", "clear")
    assert entry.note == f"below the threshold for {after:g} days of event time"
    assert entry.detail["last_flagged_at"] == "2026-01-01T00:00:00+00:00"
    assert entry.detail["clear_after_days"] == after


def test_the_default_stretch_reads_as_in_the_issue(engine: Engine) -> None:
    checkpoint(engine, [tick("C1", 0.0, 0.92)], watermark_day=8.0)
    assert trail(engine, "C1")[0].note == "below the threshold for 7 days of event time"


def test_a_flag_superseded_within_a_checkpoint_still_counts(engine: Engine) -> None:
    """Only a case's latest update of a checkpoint is written, but the last time it was
    flagged is taken from all of them."""
    updates = [tick("C1", 0.0, 0.92), tick("C1", 2.0, 0.95), tick("C1", 2.5, 0.1)]
    checkpoint(engine, updates, watermark_day=8.9)
    assert status(engine, "C1") == "open"
    checkpoint(engine, [], watermark_day=9.1)
    assert status(engine, "C1") == "cleared"
    assert trail(engine, "C1")[0].detail["last_flagged_at"] == "2026-01-03T00:00:00+00:00"


@pytest.mark.parametrize(
    "reviewer",
    ["watch", "escalate", "block", "accept", "accept-then-reopen", "snooze", "reopen"],
)
def test_a_case_a_reviewer_had_a_say_on_never_clears(engine: Engine, reviewer: str) -> None:
    checkpoint(engine, [tick("C1", 0.0, 0.92)], watermark_day=0.0)
    with write_transaction(engine) as conn:
        if reviewer == "snooze":
            snooze(conn, case_id="C1", actor="alice", now=NOW, rise=0.2)
        elif reviewer == "reopen":
            reopen(conn, case_id="C1", actor="alice", now=NOW)
        else:
            action = reviewer.removesuffix("-then-reopen")
            decide(conn, case_id="C1", action=action, note="", actor="alice", now=NOW)
            if reviewer.endswith("-then-reopen"):
                reopen(conn, case_id="C1", actor="alice", now=NOW)
    before = status(engine, "C1")
    result = checkpoint(engine, low_ticks("C1", 30.0), watermark_day=30.0)
    assert result.cleared == []
    assert status(engine, "C1") == before
    assert "clear" not in [entry.action for entry in trail(engine, "C1")]


def test_a_snoozed_case_that_woke_is_the_systems_again(engine: Engine) -> None:
    """A snooze that woke was the system's last word: the case may clear."""
    checkpoint(engine, [tick("C1", 0.0, 0.92)], watermark_day=0.0)
    with write_transaction(engine) as conn:
        snooze(conn, case_id="C1", actor="alice", now=NOW, until=datetime(2026, 6, 2, tzinfo=UTC))
        wake_snoozed(conn, now=datetime(2026, 6, 3, tzinfo=UTC))
    checkpoint(engine, [], watermark_day=8.0)
    assert status(engine, "C1") == "cleared"


def test_a_cleared_case_reopens_when_its_cluster_is_flagged_again(engine: Engine) -> None:
    checkpoint(engine, [tick("C1", 0.0, 0.92)], watermark_day=0.0)
    checkpoint(engine, low_ticks("C1", 7.5), watermark_day=7.5)
    assert status(engine, "C1") == "cleared"

    result = checkpoint(engine, [tick("C1", 7.75, 0.91)], watermark_day=7.8)
    assert result == Clearing(reflagged=["C1"], cleared=[])
    assert status(engine, "C1") == "open"
    entry = trail(engine, "C1")[0]
    assert (entry.actor, entry.action) == ("pipeline", "reflagged")
    assert entry.note == "scored 0.91, at or over the threshold again"
    assert entry.detail["from"] == "cleared"

    # Flagged at 7.75 days: open until more than seven days after that.
    checkpoint(engine, [], watermark_day=14.7)
    assert status(engine, "C1") == "open"
    checkpoint(engine, [], watermark_day=14.8)
    assert status(engine, "C1") == "cleared"
    actions = [entry.action for entry in trail(engine, "C1")]
    assert actions == ["clear", "reflagged", "clear"]


def test_a_case_a_reviewer_reopened_is_not_cleared_again(engine: Engine) -> None:
    checkpoint(engine, [tick("C1", 0.0, 0.92)], watermark_day=8.0)
    assert status(engine, "C1") == "cleared"
    with write_transaction(engine) as conn:
        reopen(conn, case_id="C1", actor="alice", now=NOW, note="still paying with one card")
    checkpoint(engine, [], watermark_day=30.0)
    assert status(engine, "C1") == "open"
    entry = trail(engine, "C1")[0]
    assert (entry.actor, entry.action, entry.detail) == ("alice", "reopen", {"from": "cleared"})


def test_a_replay_in_one_checkpoint_ends_with_the_statuses_of_a_live_run(
    engine: Engine,
) -> None:
    """A stops after three days; B goes quiet for nine days, then is flagged again."""
    ticks = sorted(
        [tick("A", d / 2, 0.9 if d <= 6 else 0.05) for d in range(0, 25)]
        + [tick("B", d / 2, 0.9 if d == 0 or d >= 19 else 0.3) for d in range(0, 25)],
        key=lambda update: update.event_time,
    )
    with write_transaction(engine) as conn:
        write_case_updates(conn, updates=ticks)
        clear_quiet_cases(
            conn,
            updates=ticks,
            threshold=THRESHOLD,
            event_time=T0 + 12 * DAY,
            clear_after_days=7.0,
            now=NOW,
        )
        replayed = dict(conn.execute(select(CaseRow.case_id, CaseRow.status)).all())
        conn.execute(CaseRow.__table__.delete())
    # Live: a checkpoint after every tick, the watermark at the tick.
    for update in ticks:
        checkpoint(engine, [update], watermark_day=(update.event_time - T0) / DAY)
    assert replayed == {"A": "cleared", "B": "open"}
    assert {case_id: status(engine, case_id) for case_id in "AB"} == replayed
    # Live, B was cleared on the way and came back when it was flagged again.
    assert [entry.action for entry in trail(engine, "B")] == ["reflagged", "clear"]
