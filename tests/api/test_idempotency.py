"""Retries are safe: records are deduplicated by event_id, accounts upserted by id."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, select

from detector.store.models import AccountRow
from tests.support.records import RecordFactory, encode, stored_records
from tests.support.server import LiveServer

pytestmark = pytest.mark.db


def post(server: LiveServer, items: list[dict[str, Any]], path: str = "/v1/records") -> Any:
    with server.client() as client:
        answer = client.post(path, json=items)
    assert answer.status_code == 200, answer.text
    return answer.json()


def counts(result: dict[str, Any]) -> tuple[int, int, int]:
    return result["accepted"], result["duplicates"], result["rejected"]


def test_the_same_batch_twice_is_stored_once(
    server: LiveServer, engine: Engine, record_factory: RecordFactory
) -> None:
    batch = record_factory.records(20)
    assert counts(post(server, batch)) == (20, 0, 0)
    assert counts(post(server, batch)) == (0, 20, 0)
    # The same records in another body form are still the same events.
    body, headers = encode(batch, "ndjson", gzipped=True)
    with server.client() as client:
        result = client.post("/v1/records", content=body, headers=headers).json()
        pipeline = client.get("/v1/pipeline").json()
    assert counts(result) == (0, 20, 0)
    stored = [r["event_id"] for r in stored_records(engine)]
    assert stored == [r["event_id"] for r in batch]
    assert (pipeline["received"], pipeline["duplicates"]) == (20, 40)


def test_duplicates_inside_one_batch_keep_the_first(
    server: LiveServer, engine: Engine, record_factory: RecordFactory
) -> None:
    a, b, c = record_factory.records(3)
    a_again = {**a, "request_model": "changed-model"}
    result = post(server, [a, b, a_again, c, b])
    assert counts(result) == (3, 2, 0)
    stored = stored_records(engine)
    assert [r["event_id"] for r in stored] == [a["event_id"], b["event_id"], c["event_id"]]
    assert stored[0]["request_model"] == a["request_model"]


def test_a_duplicate_changes_nothing(
    server: LiveServer, engine: Engine, record_factory: RecordFactory
) -> None:
    record = record_factory.record()
    post(server, [record])
    changed = {**record, "request_model": "other-model", "status": "error"}
    assert counts(post(server, [changed])) == (0, 1, 0)
    (stored,) = stored_records(engine)
    assert stored["request_model"] == record["request_model"]
    assert "status" not in stored  # the default "success", left out when stored


def test_a_retry_with_new_records_keeps_only_the_new(
    server: LiveServer, engine: Engine, record_factory: RecordFactory
) -> None:
    first = record_factory.records(5)
    second = record_factory.records(5)
    post(server, first)
    assert counts(post(server, first[2:] + second)) == (5, 3, 0)
    assert len(stored_records(engine)) == 10


def test_a_rejected_record_can_be_sent_again_once_fixed(
    server: LiveServer, engine: Engine, record_factory: RecordFactory
) -> None:
    record = record_factory.record()
    assert counts(post(server, [{**record, "ts_start": "yesterday"}])) == (0, 0, 1)
    assert counts(post(server, [record])) == (1, 0, 0)
    assert len(stored_records(engine)) == 1


def test_a_duplicate_of_an_invalid_copy_is_not_counted(
    server: LiveServer, record_factory: RecordFactory
) -> None:
    """Validation comes before deduplication: [bad a, good a] stores the good one."""
    record = record_factory.record()
    result = post(server, [{**record, "client_ip": "nope"}, record])
    assert counts(result) == (1, 0, 1)


@pytest.mark.parametrize("overlap", ["same-batch", "reversed-halves"])
def test_concurrent_retries_store_each_record_once(
    server: LiveServer, engine: Engine, record_factory: RecordFactory, overlap: str
) -> None:
    records = record_factory.records(400)
    if overlap == "same-batch":
        batches = [records] * 4
    else:
        # Overlapping batches in opposite orders: the shape that deadlocks a store
        # that locks keys in arrival order.
        batches = [records, records[::-1], records[200:] + records[:200], records[::-1]]
    with ThreadPoolExecutor(len(batches)) as pool:
        results = list(pool.map(lambda batch: post(server, batch), batches))
    assert sum(r["accepted"] for r in results) == 400
    assert sum(r["duplicates"] for r in results) == 1200
    stored = [r["event_id"] for r in stored_records(engine)]
    assert sorted(stored) == sorted(r["event_id"] for r in records)


def _account_rows(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(AccountRow)).mappings().all()
    return {row["account_id"]: dict(row) for row in rows}


def test_accounts_are_upserted_by_id(
    server: LiveServer, engine: Engine, record_factory: RecordFactory
) -> None:
    first = record_factory.account(verified=False, program="edu", country="DE")
    other = record_factory.account()
    assert counts(post(server, [first, other], "/v1/accounts")) == (2, 0, 0)
    updated = {**first, "verified": True, "program": "startup", "attributes": {"tier": "scale"}}
    del updated["country"]
    # An upsert is counted as accepted: it may carry new values.
    assert counts(post(server, [updated], "/v1/accounts")) == (1, 0, 0)
    rows = _account_rows(engine)
    assert len(rows) == 2
    row = rows[first["account_id"]]
    assert (row["verified"], row["program"], row["attributes"]) == (
        True,
        "startup",
        {"tier": "scale"},
    )
    # The row becomes what was last sent: a field left out is cleared.
    assert row["country"] is None
    assert rows[other["account_id"]]["country"] == other["country"]


def test_repeated_account_in_one_batch_last_wins(
    server: LiveServer, engine: Engine, record_factory: RecordFactory
) -> None:
    account = record_factory.account(program="edu")
    batch = [account, {**account, "program": "research"}, {**account, "program": "enterprise"}]
    assert counts(post(server, batch, "/v1/accounts")) == (1, 2, 0)
    assert _account_rows(engine)[account["account_id"]]["program"] == "enterprise"
