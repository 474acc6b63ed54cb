"""Snooze, wake, reopen, regressions and the queue's "what changed" markers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine, select, update

from detector.dashboard.queries import queue
from detector.dashboard.sweeper import Sweeper, settle
from detector.errors import InvalidRequestError, NotFoundError
from detector.store.db import write_transaction
from detector.store.pipeline_models import CaseRow
from detector.store.reviews import (
    audit_trail,
    decide,
    mark_regressions,
    mark_viewed,
    reopen,
    snooze,
    wake_snoozed,
)
from tests.dashboard.conftest import csrf_of
from tests.dashboard.seeding import seed_case, seed_queue

pytestmark = pytest.mark.db

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def status_of(engine: Engine, case_id: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(CaseRow.status).where(CaseRow.case_id == case_id)).scalar())


def pipeline_writes(engine: Engine, case_id: str, **values: object) -> None:
    """What the pipeline does when a window changes a case."""
    with write_transaction(engine) as conn:
        conn.execute(
            update(CaseRow)
            .where(CaseRow.case_id == case_id)
            .values(updated_at=datetime.now(UTC) + timedelta(seconds=1), **values)
        )


def test_a_snooze_wakes_on_its_date(engine: Engine, seeded: Callable[..., None]) -> None:
    seeded(seed_case, "c1", score=0.8, account_ids=["a"])
    with write_transaction(engine) as conn:
        snooze(conn, case_id="c1", actor="alice", now=NOW, until=NOW + timedelta(days=2))
        assert wake_snoozed(conn, now=NOW + timedelta(days=1)) == []
    assert status_of(engine, "c1") == "snoozed"
    with write_transaction(engine) as conn:
        assert wake_snoozed(conn, now=NOW + timedelta(days=2, seconds=1)) == ["c1"]
        trail = audit_trail(conn, case_id="c1")
    assert status_of(engine, "c1") == "open"
    assert [entry.action for entry in trail] == ["wake", "snooze"]
    assert trail[0].note == "date reached"


def test_a_snooze_wakes_when_the_score_rises(engine: Engine, seed_one: None) -> None:
    with write_transaction(engine) as conn:
        snooze(conn, case_id="c1", actor="alice", now=NOW, rise=0.1)
    pipeline_writes(engine, "c1", score=0.85)
    with write_transaction(engine) as conn:
        assert wake_snoozed(conn, now=NOW) == []
    pipeline_writes(engine, "c1", score=0.91)
    with write_transaction(engine) as conn:
        assert wake_snoozed(conn, now=NOW) == ["c1"]
    assert status_of(engine, "c1") == "open"


@pytest.fixture
def seed_one(seeded: Callable[..., None]) -> None:
    seeded(seed_case, "c1", score=0.8, account_ids=["a", "b"])


@pytest.mark.parametrize(
    ("until", "rise", "message"),
    [
        (None, None, "snooze: give a date"),
        (NOW - timedelta(days=1), None, "until: .* is not in the future"),
        (None, 1.5, "rise: 1.5 is not between 0 and 1"),
    ],
    ids=["nothing", "past-date", "rise-too-big"],
)
def test_a_bad_snooze_names_its_field(
    engine: Engine, seed_one: None, until: datetime | None, rise: float | None, message: str
) -> None:
    with pytest.raises(InvalidRequestError, match=message), write_transaction(engine) as conn:
        snooze(conn, case_id="c1", actor="alice", now=NOW, until=until, rise=rise)
    with (
        pytest.raises(NotFoundError, match="case_id: no case 'zz'"),
        write_transaction(engine) as conn,
    ):
        reopen(conn, case_id="zz", actor="alice", now=NOW)


def test_a_closed_case_that_grows_again_comes_back_regressed(
    engine: Engine, seed_one: None
) -> None:
    with write_transaction(engine) as conn:
        decide(conn, case_id="c1", action="block", note="", actor="alice", now=NOW)
        # Nothing new since the block: no regression.
        assert mark_regressions(conn, now=NOW) == []
    assert status_of(engine, "c1") == "closed"
    # The pipeline rewrites the case without growth (a score tweak): still closed.
    pipeline_writes(engine, "c1", score=0.82)
    with write_transaction(engine) as conn:
        assert mark_regressions(conn, now=NOW) == []
    # A replacement account joins and new traffic arrives after the block.
    pipeline_writes(engine, "c1", account_count=3, last_event_at=datetime(2026, 3, 20, tzinfo=UTC))
    with write_transaction(engine) as conn:
        assert mark_regressions(conn, now=NOW) == ["c1"]
        assert audit_trail(conn, case_id="c1")[0].action == "regressed"
    assert status_of(engine, "c1") == "open"
    # Reopen and a new decision settle it again.
    with write_transaction(engine) as conn:
        decide(conn, case_id="c1", action="accept", note="", actor="alice", now=NOW)
        reopen(conn, case_id="c1", actor="alice", now=NOW, note="second look")
    assert status_of(engine, "c1") == "open"


def test_the_queue_sorts_filters_pages_and_marks_what_changed(
    engine: Engine, seeded: Callable[..., None], reviewer: str
) -> None:
    seeded(seed_queue, 130, accounts=2)
    with engine.connect() as conn:
        first = queue(conn, reviewer_id=1, page=1, per_page=50)
        by_size = queue(conn, reviewer_id=1, sort="opened", per_page=50)
        coding = queue(conn, reviewer_id=1, capability="coding", per_page=50)
        last = queue(conn, reviewer_id=1, page=99, per_page=50)
    scores = [item.score for item in first.items]
    assert scores == sorted(scores, reverse=True) and len(scores) == 50
    assert first.total == 130 and first.pages == 3 and first.status_counts["open"] == 130
    opened = [item.opened_at for item in by_size.items]
    assert opened == sorted(opened, reverse=True)
    assert coding.total == first.capability_counts["coding"] > 0
    assert {item.main_capability for item in coding.items} == {"coding"}
    assert last.page == 3 and len(last.items) == 30
    assert first.new_count == 130 and first.changed_count == 0

    top = first.items[0].case_id
    with write_transaction(engine) as conn:
        mark_viewed(conn, reviewer_id=1, case_id=top, now=datetime.now(UTC))
    with engine.connect() as conn:
        seen = queue(conn, reviewer_id=1, per_page=50)
    assert seen.items[0].change == "" and seen.new_count == 129
    pipeline_writes(engine, top, record_count=10_000)
    with engine.connect() as conn:
        changed = queue(conn, reviewer_id=1, per_page=50)
    assert changed.items[0].change == "changed" and changed.changed_count == 1


def test_snooze_and_reopen_through_the_forms(
    browser_client: httpx.Client, engine: Engine, seed_one: None
) -> None:
    csrf = csrf_of(browser_client.get("/dashboard/cases/c1").text)
    bad = browser_client.post(
        "/dashboard/cases/c1/snooze", data={"csrf_token": csrf, "until": "not-a-date"}
    )
    assert bad.status_code == 422 and "until: &#39;not-a-date&#39; is not a date" in bad.text
    done = browser_client.post(
        "/dashboard/cases/c1/snooze", data={"csrf_token": csrf, "until": "2999-01-01"}
    )
    assert done.status_code == 303 and status_of(engine, "c1") == "snoozed"
    snoozed = browser_client.get("/dashboard?status=snoozed").text
    assert 'data-case-id="c1"' in snoozed
    page = browser_client.get("/dashboard/cases/c1").text
    assert "snoozed" in page and "until 2999-01-01" in page
    browser_client.post("/dashboard/cases/c1/reopen", data={"csrf_token": csrf, "note": "x"})
    assert status_of(engine, "c1") == "open"
    history = browser_client.get("/dashboard/cases/c1").text
    assert "reopen" in history and "snooze" in history


def test_the_sweeper_wakes_snoozes_without_a_page_view(engine: Engine, seed_one: None) -> None:
    assert settle(engine, now=NOW) == []
    with write_transaction(engine) as conn:
        snooze(conn, case_id="c1", actor="alice", now=NOW, rise=0.05)
    pipeline_writes(engine, "c1", score=0.9)

    async def run_briefly() -> None:
        sweeper = Sweeper(engine, interval=0.05)
        await sweeper.start()
        for _ in range(100):
            await asyncio.sleep(0.05)
            if status_of(engine, "c1") == "open":
                break
        await sweeper.stop()

    asyncio.run(run_briefly())
    assert status_of(engine, "c1") == "open"
