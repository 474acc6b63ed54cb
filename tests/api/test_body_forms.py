"""Every body form of CONTRACT §1–2, plain and gzip, through real HTTP."""

from __future__ import annotations

import msgspec
import pytest
from sqlalchemy import Engine, select

from detector.schema import Record
from detector.store.models import AccountRow
from tests.support.records import FORMS, Form, RecordFactory, encode, stored_records
from tests.support.server import LiveServer

pytestmark = pytest.mark.db

FORM_CASES = [
    pytest.param(form, gzipped, id=f"{form}{'-gzip' if gzipped else ''}")
    for form in FORMS
    for gzipped in (False, True)
]


@pytest.mark.parametrize(("form", "gzipped"), FORM_CASES)
def test_records_in_every_form_are_stored(
    server: LiveServer,
    engine: Engine,
    record_factory: RecordFactory,
    form: Form,
    gzipped: bool,
) -> None:
    records = record_factory.records(7)
    body, headers = encode(records, form, gzipped=gzipped)
    with server.client() as client:
        answer = client.post("/v1/records", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": 7, "duplicates": 0, "rejected": 0, "errors": []}
    stored = stored_records(engine)
    assert [r["event_id"] for r in stored] == [r["event_id"] for r in records]
    assert [r["ts_start"] for r in stored] == [r["ts_start"] for r in records]


@pytest.mark.parametrize(("form", "gzipped"), FORM_CASES)
def test_accounts_in_every_form_are_upserted(
    server: LiveServer,
    engine: Engine,
    record_factory: RecordFactory,
    form: Form,
    gzipped: bool,
) -> None:
    accounts = record_factory.accounts(4)
    body, headers = encode(accounts, form, gzipped=gzipped)
    with server.client() as client:
        answer = client.post("/v1/accounts", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": 4, "duplicates": 0, "rejected": 0, "errors": []}
    with engine.connect() as conn:
        rows = conn.execute(
            select(AccountRow.account_id, AccountRow.country, AccountRow.verified).order_by(
                AccountRow.account_id
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        (a["account_id"], a["country"], a["verified"]) for a in accounts
    ]


@pytest.mark.parametrize(
    ("content_type", "form"),
    [
        pytest.param(None, "array", id="no-content-type-is-json"),
        pytest.param("application/json; charset=utf-8", "object", id="json-with-charset"),
        pytest.param("APPLICATION/JSON", "array", id="json-upper-case"),
        pytest.param("application/jsonl", "ndjson", id="jsonl"),
        pytest.param("application/ndjson", "ndjson", id="ndjson-alias"),
    ],
)
def test_content_type_variants(
    server: LiveServer, record_factory: RecordFactory, content_type: str | None, form: Form
) -> None:
    body, _ = encode(record_factory.records(3), form)
    headers = {} if content_type is None else {"Content-Type": content_type}
    with server.client() as client:
        answer = client.post("/v1/records", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 3


def test_stored_record_is_normalised_and_drops_unknown_fields(
    server: LiveServer, engine: Engine, record_factory: RecordFactory
) -> None:
    record = record_factory.record(
        ts_start="2026-02-23T01:00:00+01:00",
        ts_end="2026-02-23T00:00:30Z",
        operation=None,
        status=None,
        otel_span_id="ignored",
        nested={"also": "ignored"},
    )
    with server.client() as client:
        answer = client.post("/v1/records", json={"records": [record], "source": "gateway-1"})
    assert answer.json()["accepted"] == 1, answer.text
    (stored,) = stored_records(engine)
    assert stored["ts_start"] == 1_771_804_800.0
    assert stored["ts_end"] == 1_771_804_830.0
    # Defaults are left out of the stored line (omit_defaults); decoding it as a
    # Record brings them back.
    assert "operation" not in stored
    assert msgspec.convert(stored, Record).operation == "chat"
    assert "otel_span_id" not in stored
    assert "nested" not in stored
    assert stored["event_id"] == record["event_id"]


def test_empty_batches_are_answered_and_store_nothing(server: LiveServer, engine: Engine) -> None:
    with server.client() as client:
        for body, media in ((b"[]", "application/json"), (b"\n\n", "application/x-ndjson")):
            answer = client.post("/v1/records", content=body, headers={"Content-Type": media})
            assert answer.json() == {"accepted": 0, "duplicates": 0, "rejected": 0, "errors": []}
        assert client.get("/v1/pipeline").json()["segments"] == 0
    assert stored_records(engine) == []
