"""Partial acceptance over HTTP: one batch with every bad record of the table."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.api.conftest import MakeServer
from tests.ingest.cases import BAD_RECORDS, SETTINGS, Bad
from tests.support.records import RecordFactory, encode, stored_records
from tests.support.server import LiveServer

pytestmark = pytest.mark.db


@pytest.mark.parametrize(
    ("form", "gzipped"),
    [("array", False), ("object", True), ("ndjson", False), ("ndjson", True)],
)
def test_bad_records_are_listed_and_good_ones_kept(
    make_server: MakeServer,
    engine: Engine,
    record_factory: RecordFactory,
    form: str,
    gzipped: bool,
) -> None:
    live = make_server(**SETTINGS)
    cases: list[Bad] = [param.values[0] for param in BAD_RECORDS]
    batch, expected, good_ids = [], [], []
    for case in cases:
        good = record_factory.record(unknown_field={"ignored": True})
        batch.append(good)
        good_ids.append(good["event_id"])
        expected.append((len(batch), case.field))
        batch.append(case.apply(record_factory.record()))
    body, headers = encode(batch, form, gzipped=gzipped)  # type: ignore[arg-type]
    with live.client() as client:
        answer = client.post("/v1/records", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        result = answer.json()
        pipeline = client.get("/v1/pipeline").json()
    assert (result["accepted"], result["duplicates"], result["rejected"]) == (
        len(cases),
        0,
        len(cases),
    )
    assert [(e["index"], e["field"]) for e in result["errors"]] == expected
    for error in result["errors"]:
        assert error["message"].startswith(error["field"]), error
    assert [r["event_id"] for r in stored_records(engine)] == good_ids
    assert "unknown_field" not in stored_records(engine)[0]
    assert (pipeline["received"], pipeline["rejected"]) == (len(cases), len(cases))


def test_a_batch_of_only_bad_records_stores_none(
    make_server: MakeServer, engine: Engine, record_factory: RecordFactory
) -> None:
    live = make_server(**SETTINGS)
    batch = [record_factory.record(ts_start="later"), record_factory.record(client_ip="x")]
    with live.client() as client:
        result = client.post("/v1/records", json=batch).json()
    assert (result["accepted"], result["rejected"]) == (0, 2)
    assert [e["field"] for e in result["errors"]] == ["ts_start", "client_ip"]
    assert stored_records(engine) == []


def test_bad_accounts_are_listed_and_good_ones_kept(
    server: LiveServer, record_factory: RecordFactory
) -> None:
    batch = [
        record_factory.account(),
        record_factory.account(country="Germany"),
        record_factory.account(created_at="2026-01-01"),
        record_factory.account(),
    ]
    with server.client() as client:
        result = client.post("/v1/accounts", json=batch).json()
    assert (result["accepted"], result["rejected"]) == (2, 2)
    assert [(e["index"], e["field"]) for e in result["errors"]] == [
        (1, "country"),
        (2, "created_at"),
    ]
