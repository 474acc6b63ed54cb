"""OTLP/JSON by hand (hex ids, string int64s, old attribute names) and bad OTLP input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from sqlalchemy import Engine

from detector.config import Settings
from detector.fingerprints import prompt_fingerprint
from tests.ecosystem.stored import stored_records
from tests.support.server import LiveServer

pytestmark = pytest.mark.db

TRACE = "5b8efff798038103d269b633813fc60c"
START = 1_771_804_800_000_000_000  # 2026-02-23T00:00:00Z in nanoseconds


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}  # int64 as a JSON string
    if isinstance(value, list):
        return {
            "key": key,
            "value": {"arrayValue": {"values": [{"stringValue": v} for v in value]}},
        }
    return {"key": key, "value": {"stringValue": value}}


def _span(span_id: str, attrs: dict[str, Any], parent: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "traceId": TRACE,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": "chat",
        "kind": 3,
        "startTimeUnixNano": str(START),
        "endTimeUnixNano": str(START + 2_500_000_000),
        "attributes": [_attr(k, v) for k, v in attrs.items()],
        **extra,
    }


def _request(*spans: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [_attr("detector.org_id", "org-1")]},
                "scopeSpans": [{"scope": {"name": "handmade"}, "spans": list(spans)}],
            }
        ]
    }


OLD = {
    "gen_ai.operation.name": "chat",
    "gen_ai.system": "anthropic",
    "gen_ai.request.model": "claude-opus-4-6",
    "gen_ai.usage.prompt_tokens": 40,
    "gen_ai.usage.completion_tokens": 9,
    "enduser.id": "acct-json",
}


def test_otlp_json_with_old_names(server: LiveServer, engine: Engine, settings: Settings) -> None:
    prompt = '[{"role": "user", "content": "Hello   WORLD"}]'
    events = [{"name": "gen_ai.content.prompt", "attributes": [_attr("gen_ai.prompt", prompt)]}]
    body = _request(
        _span("eee19b7ec3c1b174", OLD, events=events),
        _span(
            "eee19b7ec3c1b175",
            {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "bash"},
            parent="eee19b7ec3c1b174",
        ),
    )
    with server.client() as client:
        answer = client.post("/v1/traces", json=body)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json() == {}  # partialSuccess is left out when nothing was rejected
    record = stored_records(engine)[f"otlp-{TRACE}-eee19b7ec3c1b174"]
    assert record["ts_start"] == 1_771_804_800.0
    assert record["ts_end"] == 1_771_804_802.5
    assert record["provider"] == "anthropic"
    assert (record["input_tokens"], record["output_tokens"]) == (40, 9)
    assert record["org_id"] == "org-1"
    assert record["response_tool_call_names"] == ["bash"]
    # The transcript of the old gen_ai.content.prompt event.
    assert record["prompt_fingerprint"] == prompt_fingerprint(
        "hello world", settings.fingerprint_key.get_secret_value().encode()
    )
    assert record["message_count"] == 1


def test_rejected_spans_are_reported_in_partial_success(server: LiveServer, engine: Engine) -> None:
    no_account = {k: v for k, v in OLD.items() if k != "enduser.id"}
    negative = {**OLD, "gen_ai.usage.prompt_tokens": -3}
    body = _request(
        _span("0000000000000001", OLD),
        _span("0000000000000002", no_account),
        _span("0000000000000003", negative),
        _span("0000000000000004", {"http.request.method": "GET"}),
    )
    with server.client() as client:
        answer = client.post("/v1/traces", json=body)
    assert answer.status_code == 200
    partial = answer.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "1"  # int64 is a string in OTLP/JSON
    message = partial["errorMessage"]
    assert "span 0000000000000003" in message and "input_tokens" in message
    # Told, not silent: the span that is no call, and the call that names no caller.
    assert "skipped 1 spans: 1 not a model call" in message
    assert "1 calls name no caller" in message
    stored = stored_records(engine)
    assert list(stored) == [f"otlp-{TRACE}-0000000000000001", f"otlp-{TRACE}-0000000000000002"]
    fallback = stored[f"otlp-{TRACE}-0000000000000002"]
    assert fallback["account_id"].startswith("unattributed:unknown_service:key-")
    assert fallback["attributes"]["detector.identity"] == "fallback"


def test_protobuf_partial_success_is_protobuf(server: LiveServer) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id = bytes.fromhex(TRACE)
    span.span_id = bytes.fromhex("00000000000000aa")
    span.start_time_unix_nano = START
    span.attributes.append(
        KeyValue(key="gen_ai.operation.name", value=AnyValue(string_value="chat"))
    )
    with server.client() as client:
        answer = client.post(
            "/v1/traces",
            content=request.SerializeToString(),
            headers={"content-type": "application/x-protobuf"},
        )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-protobuf"
    response = ExportTraceServiceResponse.FromString(answer.content)
    assert response.partial_success.rejected_spans == 1
    assert "request_model: required" in response.partial_success.error_message


@pytest.mark.parametrize(
    ("content", "content_type", "status", "expected"),
    [
        (b"\xff\xfe not protobuf", "application/x-protobuf", 400, "not a protobuf"),
        (b"{not json", "application/json", 400, "not valid JSON"),
        (b"[]", "application/json", 400, "must be an object"),
        (
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz","spanId":"01"}]}]}]}',
            "application/json",
            400,
            "resourceSpans[0].scopeSpans[0].spans[0].traceId: 'xyz' is not 32 hex digits",
        ),
        (
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"soon"}]}]}]}',
            "application/json",
            400,
            "startTimeUnixNano",
        ),
        (b"spans", "text/plain", 415, "application/x-protobuf or application/json"),
    ],
    ids=["bad-protobuf", "bad-json", "json-array", "bad-trace-id", "bad-int64", "text-plain"],
)
def test_bad_otlp_is_refused_with_a_clear_error(
    server: LiveServer, content: bytes, content_type: str, status: int, expected: str
) -> None:
    with server.client() as client:
        answer = client.post("/v1/traces", content=content, headers={"content-type": content_type})
    assert answer.status_code == status
    if content_type == "application/x-protobuf":
        message = status_pb2.Status.FromString(answer.content).message
    else:
        message = answer.json().get("message") or answer.json()["detail"]
    assert expected in message


def test_traces_need_a_token(server: LiveServer) -> None:
    answer = httpx.post(f"{server.url}/v1/traces", json=_request(_span("0000000000000001", OLD)))
    assert answer.status_code == 401
