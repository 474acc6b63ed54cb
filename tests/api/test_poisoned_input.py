"""Hostile input over real HTTP: characters no store keeps, and records dated ahead.

Every ingest path gets a batch of a valid item, a poisoned one and another valid
one; the poisoned item alone is refused and the others reach the store. Run on
PostgreSQL too (``make test-postgres``), where a stored NUL would break later writes.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from sqlalchemy import Engine, select

from detector.store.models import AccountRow
from tests.api.conftest import MakeServer
from tests.support.records import EPOCH, RecordFactory, stored_records
from tests.support.server import LiveServer

pytestmark = pytest.mark.db

TRACE = "5b8efff798038103d269b633813fc60c"
START_NS = int(EPOCH) * 1_000_000_000


def _json(document: Any) -> bytes:
    # The standard library escapes a lone surrogate, as a Python sender's log shipper does.
    return json.dumps(document).encode()


def _records_json(client: httpx.Client, account_ids: list[str]) -> httpx.Response:
    factory = RecordFactory(seed=1)
    items = [factory.record(account_id=account) for account in account_ids]
    return client.post("/v1/records", content=_json(items), headers=_JSON)


def _records_ndjson(client: httpx.Client, account_ids: list[str]) -> httpx.Response:
    factory = RecordFactory(seed=2)
    lines = [_json(factory.record(account_id=account)) for account in account_ids]
    return client.post(
        "/v1/records", content=b"\n".join(lines), headers={"Content-Type": "application/x-ndjson"}
    )


def _accounts(client: httpx.Client, account_ids: list[str]) -> httpx.Response:
    factory = RecordFactory(seed=3)
    items = [factory.account(account_id=account) for account in account_ids]
    return client.post("/v1/accounts", content=_json(items), headers=_JSON)


def _span_attributes(account: str) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-opus-4-6",
        "enduser.id": account,
    }


def _traces_json(client: httpx.Client, account_ids: list[str]) -> httpx.Response:
    spans = [
        {
            "traceId": TRACE,
            "spanId": f"{i + 1:016x}",
            "name": "chat",
            "startTimeUnixNano": str(START_NS + i),
            "endTimeUnixNano": str(START_NS + i + 10**9),
            "attributes": [
                {"key": k, "value": {"stringValue": v}}
                for k, v in _span_attributes(account).items()
            ],
        }
        for i, account in enumerate(account_ids)
    ]
    body = {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}
    return client.post("/v1/traces", content=_json(body), headers=_JSON)


def _traces_protobuf(client: httpx.Client, account_ids: list[str]) -> httpx.Response:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for i, account in enumerate(account_ids):
        span = scope.spans.add(
            trace_id=bytes.fromhex(TRACE),
            span_id=(i + 1).to_bytes(8, "big"),
            name="chat",
            start_time_unix_nano=START_NS + i,
            end_time_unix_nano=START_NS + i + 10**9,
        )
        span.attributes.extend(
            KeyValue(key=k, value=AnyValue(string_value=v))
            for k, v in _span_attributes(account).items()
        )
    return client.post(
        "/v1/traces",
        content=request.SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
    )


def _litellm(client: httpx.Client, account_ids: list[str]) -> httpx.Response:
    payloads = [
        {
            "id": f"chatcmpl-{i}",
            "litellm_call_id": f"call-{i}",
            "call_type": "completion",
            "startTime": EPOCH + i,
            "endTime": EPOCH + i + 1.5,
            "model": "gpt-4o",
            "model_parameters": {"user": account},
            "prompt_tokens": 3,
            "completion_tokens": 2,
            "status": "success",
            "metadata": {},
            "messages": [{"role": "user", "content": "hi"}],
        }
        for i, account in enumerate(account_ids)
    ]
    return client.post("/v1/litellm", content=_json(payloads), headers=_JSON)


_JSON = {"Content-Type": "application/json"}
Post = Callable[[httpx.Client, list[str]], httpx.Response]
PATHS = {
    "records-json": _records_json,
    "records-ndjson": _records_ndjson,
    "accounts": _accounts,
    "traces-json": _traces_json,
    "traces-protobuf": _traces_protobuf,
    "litellm": _litellm,
}
# A protobuf string must be UTF-8, which cannot encode a lone surrogate at all.
CASES = [
    pytest.param(path, char, id=f"{path}-{name}")
    for path in PATHS
    for char, name in (("\x00", "nul"), ("\ud800", "lone-surrogate"))
    if not (path == "traces-protobuf" and char != "\x00")
]


def _rejected(path: str, answer: httpx.Response) -> tuple[int, str]:
    """How many items the answer says were refused, and its words about them."""
    if path.startswith("traces"):
        if path.endswith("protobuf"):
            response = ExportTraceServiceResponse.FromString(answer.content)
            partial = response.partial_success
            return partial.rejected_spans, partial.error_message
        partial = answer.json().get("partialSuccess", {})
        return int(partial.get("rejectedSpans", 0)), partial.get("errorMessage", "")
    body = answer.json()
    assert body["accepted"] == 2, body
    return body["rejected"], " ".join(f"{e['field']}|{e['message']}" for e in body["errors"])


def _stored_accounts(engine: Engine, path: str) -> list[str]:
    with engine.connect() as conn:
        if path == "accounts":
            return sorted(conn.scalars(select(AccountRow.account_id)))
    return sorted(record["account_id"] for record in stored_records(engine))


@pytest.mark.parametrize(("path", "char"), CASES)
def test_every_path_refuses_the_poisoned_item_and_keeps_the_others(
    server: LiveServer, engine: Engine, path: str, char: str
) -> None:
    with server.client() as client:
        answer = PATHS[path](client, ["acct-before", f"acct{char}bad", "acct-after"])
        assert answer.status_code == 200, answer.text
        rejected, words = _rejected(path, answer)
        # The store is sound afterwards: the next batch on the same path is taken whole.
        again = PATHS[path](client, ["acct-before", "acct-again"])
        assert again.status_code == 200, again.text
    assert rejected == 1
    assert f"contains U+{ord(char):04X}, which the store cannot keep" in words
    assert _stored_accounts(engine, path) == ["acct-after", "acct-again", "acct-before"]


def test_a_nul_account_leaves_the_pipeline_working(
    server: LiveServer, engine: Engine, record_factory: RecordFactory
) -> None:
    accounts = record_factory.accounts(3)
    accounts[1]["account_id"] = "acct\x00nul"
    records = [
        record_factory.record(account_id=a["account_id"]) for a in (accounts[0], accounts[2])
    ]
    with server.client() as client:
        first = client.post("/v1/accounts", content=_json(accounts), headers=_JSON)
        assert first.status_code == 200, first.text
        stored = client.post("/v1/records", json=records)
        flushed = client.post("/v1/pipeline/flush")
        state = client.get("/v1/pipeline").json()
    assert (first.json()["accepted"], first.json()["rejected"]) == (2, 1)
    assert first.json()["errors"][0]["field"] == "account_id"
    assert stored.status_code == 200 and stored.json()["accepted"] == 2
    assert flushed.status_code == 200, flushed.text
    assert (state["received"], state["processed"], state["pending"]) == (2, 2, 0)
    with engine.connect() as conn:
        kept = sorted(conn.scalars(select(AccountRow.account_id)))
    assert kept == sorted([accounts[0]["account_id"], accounts[2]["account_id"]])


def test_a_record_dated_2099_is_refused_and_the_watermark_stays(
    server: LiveServer, record_factory: RecordFactory
) -> None:
    early = record_factory.records(3)
    later = record_factory.record(ts_start=early[-1]["ts_start"] + 600, ts_end=None)
    far = record_factory.record(ts_start="2099-12-30T00:00:00Z", ts_end=None)
    with server.client() as client:
        client.post("/v1/records", json=early).raise_for_status()
        before = client.post("/v1/pipeline/flush").json()
        answer = client.post("/v1/records", json=[far, later]).json()
        after = client.post("/v1/pipeline/flush").json()
    assert (answer["accepted"], answer["rejected"]) == (1, 1)
    (error,) = answer["errors"]
    assert (error["index"], error["field"]) == (0, "ts_start")
    assert "DETECTOR_MAX_FUTURE_SKEW_SECONDS" in error["message"]
    assert before["watermark"] is not None
    # The watermark moves on with the valid record, not to 2099.
    assert before["watermark"] <= after["watermark"] < "2027"
    assert after["latest_event"] < "2027"
    assert after["received"] == 4


def test_records_ahead_within_the_skew_are_accepted(
    make_server: MakeServer, engine: Engine, record_factory: RecordFactory
) -> None:
    live = make_server(max_future_skew_seconds=1800)
    now = time.time()
    soon = record_factory.record(ts_start=now + 600, ts_end=now + 660)
    late = record_factory.record(ts_start=now + 3600, ts_end=None)
    with live.client() as client:
        answer = client.post("/v1/records", json=[soon, late]).json()
    assert (answer["accepted"], answer["rejected"]) == (1, 1)
    assert "at most 1800 s ahead" in answer["errors"][0]["message"]
    assert [r["event_id"] for r in stored_records(engine)] == [soon["event_id"]]


_SAMPLE = re.compile(
    r'^detector_ingest_rejected_total\{endpoint="(?P<endpoint>[^"]*)",field="(?P<field>[^"]*)",'
    r'rule="(?P<rule>[^"]*)"\} (?P<value>\S+)$',
    re.MULTILINE,
)


def _rejections(client: httpx.Client) -> dict[tuple[str, str, str], float]:
    text = client.get("/metrics").text
    return {
        (m["endpoint"], m["field"], m["rule"]): float(m["value"]) for m in _SAMPLE.finditer(text)
    }


def test_rejections_are_counted_by_field_and_rule(
    server: LiveServer, record_factory: RecordFactory
) -> None:
    batch = [
        record_factory.record(account_id="a\x00"),
        record_factory.record(ts_start="2099-12-30T00:00:00Z", ts_end=None),
        record_factory.record(client_ip="x"),
        record_factory.record(),
    ]
    account = record_factory.account(created_at="2099-01-01T00:00:00Z")
    with server.client() as client:
        before = _rejections(client)
        client.post("/v1/records", json=batch).raise_for_status()
        client.post("/v1/accounts", json=[account]).raise_for_status()
        after = _rejections(client)
    grown = {
        key: after[key] - before.get(key, 0.0) for key in after if after[key] != before.get(key)
    }
    # The registry is the process's: other tests' rejections are in it, but not in the change.
    assert grown == {
        ("records", "account_id", "unstorable"): 1.0,
        ("records", "ts_start", "future"): 1.0,
        ("records", "client_ip", "invalid"): 1.0,
        ("accounts", "created_at", "future"): 1.0,
    }


def test_an_otlp_json_span_refused_for_a_surrogate_in_its_resource(
    server: LiveServer, engine: Engine
) -> None:
    """A resource's attributes belong to each of its spans: all of them are refused."""
    span = {
        "traceId": TRACE,
        "spanId": "00000000000000aa",
        "name": "chat",
        "startTimeUnixNano": str(START_NS),
        "endTimeUnixNano": str(START_NS + 10**9),
        "attributes": [
            {"key": k, "value": {"stringValue": v}} for k, v in _span_attributes("acct-x").items()
        ],
    }
    poisoned = {"attributes": [{"key": "host.name", "value": {"stringValue": "h\udfff"}}]}
    clean = {**span, "spanId": "00000000000000bb"}
    body = {
        "resourceSpans": [
            {"resource": poisoned, "scopeSpans": [{"spans": [span]}]},
            {"scopeSpans": [{"spans": [clean]}]},
        ]
    }
    with server.client() as client:
        answer = client.post("/v1/traces", content=_json(body), headers=_JSON)
    assert answer.status_code == 200, answer.text
    partial = answer.json()["partialSuccess"]
    assert int(partial["rejectedSpans"]) == 1  # an int64: a string in OTLP/JSON
    assert "span 00000000000000aa" in partial["errorMessage"]
    assert "resourceSpans[0].resource" in partial["errorMessage"]
    assert "U+DFFF" in partial["errorMessage"]
    assert [r["event_id"] for r in stored_records(engine)] == [f"otlp-{TRACE}-00000000000000bb"]


def test_error_messages_stay_storable_text(server: LiveServer) -> None:
    """The answer quotes no poisoned value: it is JSON any client can read back."""
    body = b'[{"event_id": "\\ud800", "ts_start": "\\u0000", "account_id": 5}]'
    with server.client() as client:
        answer = client.post("/v1/records", content=body, headers=_JSON)
    assert answer.status_code == 200, answer.text
    (error,) = answer.json()["errors"]
    assert error["field"] == "event_id"
    assert "\ud800" not in error["message"] and "\x00" not in error["message"]
