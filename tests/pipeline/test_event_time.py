"""Detection is a function of event time: one big batch and many small ones give the
same cases, opened at the same event times; records later than the lateness are
counted and folded in at the next tick (a late correction), so arrival order and
concurrency change when evidence counts, never whether."""

from __future__ import annotations

from typing import Any

import polars as pl

from detector.features.frames import RECORD_SCHEMA, narrow
from detector.pipeline.cases import CaseUpdate
from detector.pipeline.engine import META_SCHEMA, Engine
from tests.pipeline.traffic import Traffic


def frames(data: Traffic) -> tuple[pl.DataFrame, pl.DataFrame]:
    records = narrow(pl.from_dicts(data.records, schema=RECORD_SCHEMA))
    meta = pl.from_dicts(data.accounts, schema=META_SCHEMA)
    return records, meta


def summary(updates: list[CaseUpdate]) -> dict[str, Any]:
    """The last state of each case, as what a reviewer would see."""
    last = {u.case_id: u for u in updates}
    return {
        cid: (u.opened_at, u.account_count, u.record_count, round(u.score, 9), u.reasons)
        for cid, u in last.items()
    }


def run(records: pl.DataFrame, meta: pl.DataFrame, batches: int) -> tuple[Engine, list[CaseUpdate]]:
    engine = Engine()
    engine.set_meta(meta)
    updates: list[CaseUpdate] = []
    size = -(-records.height // batches)
    for start in range(0, records.height, size):
        engine.add(records.slice(start, size))
        updates += engine.advance()
    updates += engine.advance(flush=True)
    return engine, updates


def test_one_batch_and_many_give_the_same_cases(traffic: Traffic) -> None:
    records, meta = frames(traffic)
    _, whole = run(records, meta, batches=1)
    _, pieces = run(records, meta, batches=97)
    assert summary(whole) == summary(pieces)
    (case,) = summary(whole).values()
    assert case[1] == len(traffic.campaign)
    # Every update, not just the last, happens at the same event time.
    assert [(u.case_id, u.event_time) for u in whole] == [(u.case_id, u.event_time) for u in pieces]


def test_disorder_within_the_lateness_changes_nothing(traffic: Traffic) -> None:
    records, meta = frames(traffic)
    # Shuffle within blocks of 20 minutes of event time: disorder under the lateness.
    shuffled = (
        records.with_columns((pl.col("ts") // 1200).alias("_b"))
        .sort("_b", "account_id", descending=[False, True])
        .drop("_b")
    )
    _, ordered = run(records, meta, batches=40)
    _, disordered = run(shuffled, meta, batches=40)
    assert summary(ordered) == summary(disordered)


def test_records_later_than_the_lateness_are_counted_and_folded_in(traffic: Traffic) -> None:
    records, meta = frames(traffic)
    engine, _ = run(records, meta, batches=1)
    before = dict(engine.accounts_.select("account_id", "records").iter_rows())
    stale = records.head(25)
    assert engine.add(stale) == 25
    assert engine.late == 25
    assert engine.received == records.height + 25
    engine.advance(flush=True)
    after = dict(engine.accounts_.select("account_id", "records").iter_rows())
    grown = {a: after[a] - before[a] for a in after if after[a] != before[a]}
    expected = dict(stale.group_by("account_id").len().iter_rows())
    assert grown == expected


def test_records_older_than_the_retention_are_counted_and_left_out(traffic: Traffic) -> None:
    records, meta = frames(traffic)
    engine, _ = run(records, meta, batches=1)
    ancient = records.head(5).with_columns(pl.col("ts") - 400 * 86_400)
    assert engine.add(ancient) == 5
    assert engine.late_ == []


def test_a_campaign_whose_records_arrive_days_late_is_still_found(traffic: Traffic) -> None:
    # A fifth of the campaign's records reach the pipeline after everything else has
    # been flushed: its case holds every account and every record all the same.
    records, meta = frames(traffic)
    late = pl.col("account_id").is_in(sorted(traffic.campaign)) & (pl.int_range(pl.len()) % 5 == 0)
    held = records.filter(late)
    first = records.filter(~late)
    engine, updates = run(first, meta, batches=10)
    assert engine.add(held) == held.height
    updates += engine.advance(flush=True)
    last = {u.case_id: u for u in updates}
    (case,) = [u for u in last.values() if set(u.account_records) & traffic.campaign]
    assert set(case.account_records) == traffic.campaign
    campaign_records = records.filter(pl.col("account_id").is_in(sorted(traffic.campaign)))
    assert case.record_count == campaign_records.height


def test_evidence_deferred_to_the_latest_update_is_what_every_tick_would_give(
    traffic: Traffic,
) -> None:
    records, meta = frames(traffic)
    # Settled after every window: each update carries the evidence of its own tick.
    eager = Engine()
    eager.set_meta(meta)
    eager.add(records)
    every: list[CaseUpdate] = []
    for step in eager.closing(flush=True):
        every += step
        every += eager.settle()
    assert len(every) > 1 and all(u.settled for u in every)

    # Settled once: only each case's latest update gathers its evidence.
    lazy = Engine()
    lazy.set_meta(meta)
    lazy.add(records)
    once = lazy.advance(flush=True)
    assert [(u.case_id, u.event_time) for u in once] == [(u.case_id, u.event_time) for u in every]
    latest = {u.case_id: u for u in once}
    assert all(u.settled for u in latest.values())
    assert [u for u in once if not u.settled], "superseded updates gather nothing"
    for case_id, update in latest.items():
        expected = {u.case_id: u for u in every}[case_id]
        assert update.shared == expected.shared and update.timeline == expected.timeline
        assert update.shared["payment"] and update.timeline


def test_closing_left_part_way_loses_no_window(traffic: Traffic) -> None:
    records, meta = frames(traffic)
    _, whole = run(records, meta, batches=1)
    engine = Engine()
    engine.set_meta(meta)
    engine.add(records)
    steps = engine.closing()
    first = next(steps)
    open_before = len(engine.open_)
    steps.close()  # windows taken out for aggregation but not closed go back
    assert len(engine.open_) > open_before
    rest = engine.advance() + engine.advance(flush=True)
    assert summary(first + rest) == summary(whole)
