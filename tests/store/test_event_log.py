"""The event log: atomic, deduplicated appends of compressed segments."""

from __future__ import annotations

import threading
from typing import Any

import msgspec
import orjson
import pytest
from sqlalchemy import Engine, func, select

from detector.errors import StoreUnavailableError
from detector.schema import Record
from detector.store.db import write_transaction
from detector.store.event_log import (
    append_records,
    event_key,
    iter_segments,
    prepare_batch,
    totals,
)
from detector.store.models import EventKey, Segment
from tests.support.records import RecordFactory

pytestmark = pytest.mark.db


def as_records(items: list[dict[str, Any]]) -> list[Record]:
    return [msgspec.convert(item, Record) for item in items]


def append(engine: Engine, records: list[Record], rejected: int = 0) -> tuple[int, int, list[bool]]:
    with write_transaction(engine) as conn:
        appended, is_new = append_records(conn, records=records, rejected=rejected)
    return appended.accepted, appended.duplicates, is_new


def test_event_key_is_a_stable_signed_64_bit_hash() -> None:
    assert event_key("evt-1") == event_key("evt-1")
    assert event_key("evt-1") != event_key("evt-2")
    keys = [event_key(f"evt-{i}") for i in range(1000)]
    assert all(-(2**63) <= key < 2**63 for key in keys)
    assert any(key < 0 for key in keys)  # the full signed range is used
    assert len(set(keys)) == 1000
    # Stored keys outlive releases: a retry after an upgrade must hash the same.
    assert event_key("evt-1") == 5142162847298372542


def test_a_batch_is_keyed_by_second_and_event_key(record_factory: RecordFactory) -> None:
    records = as_records(record_factory.records(20))
    assert prepare_batch(records).keys == [
        (int(record.ts_start), event_key(record.event_id)) for record in records
    ]


def test_append_stores_one_segment_per_batch(engine: Engine, record_factory: RecordFactory) -> None:
    items = record_factory.records(50)
    records = as_records(items)
    assert append(engine, records, rejected=3) == (50, 0, [True] * 50)
    with engine.connect() as conn:
        (_, ndjson), *rest = list(iter_segments(conn))
        row = conn.execute(select(Segment)).mappings().one()
        log = totals(conn)
    assert rest == []
    assert [orjson.loads(line)["event_id"] for line in ndjson.splitlines()] == [
        item["event_id"] for item in items
    ]
    assert (row["record_count"], row["duplicate_count"], row["rejected_count"]) == (50, 0, 3)
    assert row["ts_min"] == min(item["ts_start"] for item in items)
    assert row["ts_max"] == max(item["ts_start"] for item in items)
    assert row["encoding"] == "ndjson+zstd"
    assert len(row["payload"]) < len(ndjson) / 2  # compressed
    assert (log.received, log.duplicates, log.rejected, log.segments) == (50, 0, 3, 1)
    assert log.latest_event == row["ts_max"]


def test_duplicates_only_batch_leaves_a_segment_without_payload(
    engine: Engine, record_factory: RecordFactory
) -> None:
    records = as_records(record_factory.records(5))
    append(engine, records)
    assert append(engine, records[::-1]) == (0, 5, [False] * 5)
    with engine.connect() as conn:
        assert [seg_id for seg_id, _ in iter_segments(conn)] == [1]
        assert conn.execute(select(func.count()).select_from(Segment)).scalar_one() == 2
        assert conn.execute(select(func.count()).select_from(EventKey)).scalar_one() == 5
        assert totals(conn).duplicates == 5


def test_is_new_marks_first_copies_of_unseen_ids(
    engine: Engine, record_factory: RecordFactory
) -> None:
    a, b, c = as_records(record_factory.records(3))
    append(engine, [b])
    assert append(engine, [a, b, a, c, c]) == (2, 3, [True, False, False, True, False])


def test_known_keys_are_found_in_any_part_of_a_large_batch(
    engine: Engine, record_factory: RecordFactory
) -> None:
    # Over 2,500 keys go into the store in several statements: a stored key in one
    # of them must not cost the new keys of the others, nor those of its own.
    records = as_records(record_factory.records(6_000))
    stored = records[4_000:4_010] + records[100:101]
    append(engine, stored)
    accepted, duplicates, is_new = append(engine, records)
    assert (accepted, duplicates) == (5_989, 11)
    assert [i for i, new in enumerate(is_new) if not new] == [100, *range(4_000, 4_010)]
    assert append(engine, records)[:2] == (0, 6_000)


def test_iter_segments_resumes_after_an_id(engine: Engine, record_factory: RecordFactory) -> None:
    for _ in range(5):
        append(engine, as_records(record_factory.records(3)))
    with engine.connect() as conn:
        ids = [seg_id for seg_id, _ in iter_segments(conn, batch=2)]
        assert [seg_id for seg_id, _ in iter_segments(conn, after_id=ids[2], batch=2)] == ids[3:]
    assert len(ids) == 5
    assert ids == sorted(ids)


def test_a_failed_transaction_keeps_nothing(engine: Engine, record_factory: RecordFactory) -> None:
    """Keys and segment commit together: a batch that failed may be retried whole."""
    records = as_records(record_factory.records(10))
    with pytest.raises(RuntimeError), write_transaction(engine) as conn:
        append_records(conn, records=records)
        raise RuntimeError("crash between append and commit")
    assert append(engine, records) == (10, 0, [True] * 10)


def test_a_store_that_cannot_be_reached_is_unavailable(record_factory: RecordFactory) -> None:
    from detector.store.db import make_engine

    dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=2")
    with pytest.raises(StoreUnavailableError, match="store unavailable"):
        append(dead, as_records(record_factory.records(1)))
    dead.dispose()


def test_overlapping_batches_in_opposite_orders_do_not_deadlock(
    engine: Engine, record_factory: RecordFactory
) -> None:
    """Retries of overlapping batches arrive in any order; none may fail or double."""
    errors: list[BaseException] = []
    for _ in range(3):
        records = as_records(record_factory.records(2000))
        orders = [records, records[::-1], records[1000:] + records[:1000], records[::-1]]
        accepted: list[int] = []

        def run(batch: list[Record], accepted: list[int] = accepted) -> None:
            try:
                accepted.append(append(engine, batch)[0])
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(order,)) for order in orders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sum(accepted) == 2000
    with engine.connect() as conn:
        assert totals(conn).received == 6000
