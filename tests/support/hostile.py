"""A table of hostile request bodies, one ``Hostile`` each, with a readable id.

Every one of them once answered 500, read without bound, or is a close variant of
one that did: parser recursion, values of the wrong type or size in every typed
field, OTLP levels and numbers of the wrong shape (JSON and protobuf), LiteLLM
payloads of the wrong shape, decision bodies in the wrong form, and forms carrying
uploads or NULs. The server must answer each with a 2xx or a 4xx.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

JSON = {"content-type": "application/json"}
NDJSON = {"content-type": "application/x-ndjson"}
PROTOBUF = {"content-type": "application/x-protobuf"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
START_NS = 1_771_804_800_000_000_000  # 2026-02-23T00:00:00Z


@dataclass(frozen=True)
class Hostile:
    id: str
    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))
    method: str = "POST"


def deep(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


def deep_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


# Values of the wrong type or size, each with a short name for the test id.
VALUES: dict[str, Any] = {
    "superscript-two": "²",
    "digits-5000": "9" * 5000,
    "over-2-64": 2**64 + 1,
    "1e300": 1e300,
    "negative": -1,
    "bool": True,
    "object": {"a": 1},
    "list-of-lists": [[["x"]]],
    "nul": "a\u0000b",
    "lone-surrogate": "\ud800",
    "long-string": "x" * 70_000,
    "nested-300": json.loads(deep(300)),
}
RECORD_FIELDS = (
    "event_id",
    "ts_start",
    "account_id",
    "request_model",
    "input_tokens",
    "reasoning_mode",
    "tool_names",
    "attributes",
    "status",
    "stream",
    "client_ip",
    "http_status",
)
ACCOUNT_FIELDS = ("account_id", "created_at", "country", "verified", "attributes")


def _record(**fields: Any) -> dict[str, Any]:
    return {
        "event_id": "hostile-x",
        "ts_start": START_NS / 1e9,
        "account_id": "acct-hostile",
        "request_model": "m",
        **fields,
    }


def _account(**fields: Any) -> dict[str, Any]:
    return {"account_id": "acct-hostile", "created_at": START_NS / 1e9, **fields}


def _dumps(value: Any) -> bytes:
    # The standard library writes what orjson refuses: ints past 64 bits, surrogates.
    return json.dumps(value).encode()


def ingest_cases() -> Iterator[Hostile]:
    for path in ("/v1/records", "/v1/accounts"):
        name = path.rsplit("/", 1)[1]
        yield Hostile(f"{name}-deep-array-100k", path, deep(100_000).encode())
        yield Hostile(f"{name}-deep-object-100k", path, deep_object(100_000).encode())
        yield Hostile(f"{name}-ndjson-deep-line", path, deep(100_000).encode(), NDJSON)
        yield Hostile(f"{name}-records-deep", path, f'{{"records":{deep(5000)}}}'.encode())
        yield Hostile(f"{name}-not-json", path, b"\xff\xfe{{{")
        yield Hostile(f"{name}-scalar", path, b"42")
        yield Hostile(f"{name}-empty", path, b"")
        yield Hostile(
            f"{name}-bad-gzip", path, b"\x1f\x8b\x08garbage", {**JSON, "content-encoding": "gzip"}
        )
        yield Hostile(f"{name}-wrong-type", path, b"[]", {"content-type": "text/csv"})
    for name, value in VALUES.items():
        for key in RECORD_FIELDS:
            yield Hostile(f"records-{key}-{name}", "/v1/records", _dumps([_record(**{key: value})]))
        for key in ACCOUNT_FIELDS:
            yield Hostile(
                f"accounts-{key}-{name}", "/v1/accounts", _dumps([_account(**{key: value})])
            )
    yield Hostile(
        "records-deep-field",
        "/v1/records",
        _dumps([_record()])[:-2] + b',"x":' + deep(900).encode() + b"}]",
    )


def _attr(key: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"key": key, "value": value}


def otlp_json(spans: Any, *, attrs: list[dict[str, Any]] | None = None) -> bytes:
    return json.dumps(
        {
            "resourceSpans": [
                {"resource": {"attributes": attrs or []}, "scopeSpans": [{"spans": spans}]}
            ]
        }
    ).encode()


def genai_span(
    span_id: str = "1" * 16, extra: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "traceId": "ab" * 16,
        "spanId": span_id,
        "name": "chat",
        "startTimeUnixNano": str(START_NS),
        "endTimeUnixNano": str(START_NS + 10**9),
        "attributes": [
            _attr("gen_ai.operation.name", {"stringValue": "chat"}),
            _attr("gen_ai.request.model", {"stringValue": "m"}),
            _attr("detector.account_id", {"stringValue": "acct-otlp-hostile"}),
            *(extra or []),
        ],
    }


COUNTS_JSON: dict[str, dict[str, Any]] = {
    "superscript-two": {"stringValue": "²"},
    "digits-5000": {"stringValue": "9" * 5000},
    "over-2-64": {"stringValue": str(2**64 + 5)},
    "1e300": {"doubleValue": 1e300},
    "nan": {"doubleValue": "NaN"},
    "negative": {"intValue": "-5"},
    "int-31-digits": {"intValue": "9" * 31},
    "digits-31": {"stringValue": "9" * 31},
    "array": {"arrayValue": {"values": [{"intValue": "1"}]}},
    "kvlist": {"kvlistValue": {"values": [{"key": "a", "value": {"intValue": "1"}}]}},
}
COUNT_KEYS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "detector.input_tokens",
)


def _pb_value(value: dict[str, Any]) -> AnyValue:
    kind, raw = next(iter(value.items()))
    if kind == "stringValue":
        return AnyValue(string_value=raw)
    if kind == "intValue":
        number = int(raw)
        return (
            AnyValue(int_value=number) if -(2**63) <= number < 2**63 else AnyValue(string_value=raw)
        )
    if kind == "doubleValue":
        return AnyValue(double_value=float(raw))
    return AnyValue(string_value=json.dumps(raw))


def otlp_protobuf(extra: dict[str, dict[str, Any]]) -> bytes:
    attributes = [
        KeyValue(key="gen_ai.operation.name", value=AnyValue(string_value="chat")),
        KeyValue(key="gen_ai.request.model", value=AnyValue(string_value="m")),
        KeyValue(key="detector.account_id", value=AnyValue(string_value="acct-otlp-hostile")),
        *(KeyValue(key=k, value=_pb_value(v)) for k, v in extra.items()),
    ]
    span = Span(
        trace_id=bytes.fromhex("cd" * 16),
        span_id=bytes.fromhex("2" * 16),
        name="chat",
        start_time_unix_nano=START_NS,
        end_time_unix_nano=START_NS + 10**9,
        attributes=attributes,
    )
    request = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])]
    )
    return request.SerializeToString()


def otlp_cases() -> Iterator[Hostile]:
    path = "/v1/traces"
    for name, shape in {
        "spans-int": [1],
        "spans-string": ["x"],
        "spans-null": [None],
        "spans-list": [[]],
    }.items():
        yield Hostile(f"otlp-{name}", path, otlp_json(shape))
    for name, document in {
        "resource-spans-int": {"resourceSpans": 5},
        "resource-spans-items-int": {"resourceSpans": [1, 2]},
        "scope-spans-string": {"resourceSpans": [{"scopeSpans": "x"}]},
        "scope-spans-items-list": {"resourceSpans": [{"scopeSpans": [[1]]}]},
        "spans-object": {"resourceSpans": [{"scopeSpans": [{"spans": {"a": 1}}]}]},
        "top-list": [1, 2],
        "deep": json.loads(deep(500)),
    }.items():
        yield Hostile(f"otlp-{name}", path, json.dumps(document).encode())
    yield Hostile("otlp-deep-100k", path, deep_object(100_000).encode())
    yield Hostile("otlp-attributes-int", path, otlp_json([{**genai_span(), "attributes": 7}]))
    yield Hostile(
        "otlp-attribute-items-int", path, otlp_json([{**genai_span(), "attributes": [7]}])
    )
    yield Hostile(
        "otlp-resource-attributes-deep",
        path,
        otlp_json([genai_span()], attrs=[_attr("x", json.loads(deep_object(200)))]),
    )
    yield Hostile("otlp-span-id-list", path, otlp_json([{**genai_span(), "spanId": [1]}]))
    yield Hostile("otlp-trace-id-object", path, otlp_json([{**genai_span(), "traceId": {"a": 1}}]))
    yield Hostile(
        "otlp-start-time-text", path, otlp_json([{**genai_span(), "startTimeUnixNano": "soon"}])
    )
    yield Hostile("otlp-protobuf-garbage", path, b"\x0a\xff\xff\xff\xff\x0f", PROTOBUF)
    for name, value in COUNTS_JSON.items():
        for key in COUNT_KEYS:
            short = key.removeprefix("gen_ai.usage.")
            yield Hostile(
                f"otlp-json-{short}-{name}",
                path,
                otlp_json([genai_span(extra=[_attr(key, value)])]),
            )
            yield Hostile(
                f"otlp-protobuf-{short}-{name}", path, otlp_protobuf({key: value}), PROTOBUF
            )
    for name, value in {
        "messages-int": {"intValue": "5"},
        "messages-parts-list-type": {
            "stringValue": json.dumps(
                [{"role": "user", "parts": [{"type": ["text"], "content": "x"}]}]
            )
        },
        "messages-deep": {"stringValue": deep(5000)},
        "tools-deep": {"stringValue": json.dumps([{"function": json.loads(deep_object(300))}])},
    }.items():
        key = "gen_ai.tool.definitions" if name.startswith("tools") else "gen_ai.input.messages"
        yield Hostile(f"otlp-{name}", path, otlp_json([genai_span(extra=[_attr(key, value)])]))


def _payload(**fields: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-hostile",
        "model": "m",
        "startTime": START_NS / 1e9,
        "endTime": START_NS / 1e9 + 1,
        "metadata": {"user_api_key_team_id": "team-hostile"},
        **fields,
    }


def litellm_cases() -> Iterator[Hostile]:
    path = "/v1/litellm"
    shapes: dict[str, dict[str, Any]] = {
        "choices-int": {"response": {"choices": 5}},
        "choices-string": {"response": {"choices": "abc"}},
        "choices-items-int": {"response": {"choices": [1, 2]}},
        "message-int": {"response": {"choices": [{"message": 5}]}},
        "tool-calls-int": {"response": {"choices": [{"message": {"tool_calls": 5}}]}},
        "tool-calls-items-list": {"response": {"choices": [{"message": {"tool_calls": [[1]]}}]}},
        "function-list": {
            "response": {"choices": [{"message": {"tool_calls": [{"function": [1]}]}}]}
        },
        "part-type-list": {
            "messages": [{"role": "user", "content": [{"type": ["text"], "text": "hi"}]}]
        },
        "part-type-object": {"messages": [{"role": "user", "content": [{"type": {"a": 1}}]}]},
        "role-list": {"messages": [{"role": ["user"], "content": "hi"}]},
        "messages-int": {"messages": 5},
        "messages-deep": {"messages": json.loads(deep(800))},
        "error-code-superscript": {"status": "failure", "error_information": {"error_code": "²"}},
        "error-code-digits-5000": {
            "status": "failure",
            "error_information": {"error_code": "9" * 5000},
        },
        "error-code-list": {"status": "failure", "error_information": {"error_code": [500]}},
        "error-information-int": {"status": "failure", "error_information": 5},
        "metadata-int": {"metadata": 5},
        "requester-metadata-list": {
            "metadata": {"user_api_key_team_id": "t", "requester_metadata": [1]}
        },
        "model-parameters-int": {"model_parameters": 5},
        "tools-int": {"model_parameters": {"tools": 5}},
        "tools-deep": {"model_parameters": {"tools": [{"function": json.loads(deep_object(300))}]}},
        "reasoning-effort-list": {"model_parameters": {"reasoning_effort": ["high"]}},
        "thinking-list": {"model_parameters": {"thinking": {"type": ["enabled"]}}},
        "usage-int": {"response": {"usage": 5}},
        "prompt-tokens-superscript": {"prompt_tokens": "²"},
        "prompt-tokens-1e300": {"prompt_tokens": 1e300},
        "cached-tokens-list": {
            "response": {"usage": {"prompt_tokens_details": {"cached_tokens": [1]}}}
        },
        "id-object": {"id": {"a": 1}},
        "id-list": {"id": [1, 2]},
        "call-type-list": {"call_type": ["completion"]},
        "hidden-params-deep": {"hidden_params": json.loads(deep_object(800))},
    }
    for name, fields in shapes.items():
        yield Hostile(f"litellm-{name}", path, _dumps([_payload(**fields)]))
    yield Hostile("litellm-deep-100k", path, deep(100_000).encode())
    yield Hostile("litellm-ndjson-deep-lines", path, b"\n".join([deep(100_000).encode()] * 2))
    yield Hostile("litellm-scalar", path, b"5")


def other_cases() -> Iterator[Hostile]:
    decisions = "/v1/cases/C-hostile/decisions"
    yield Hostile("decision-form-encoded", decisions, b'{"action":"accept"}', FORM)
    yield Hostile("decision-no-content-type", decisions, b'{"action":"accept"}', {})
    yield Hostile("decision-text-plain", decisions, b"accept", {"content-type": "text/plain"})
    yield Hostile("decision-deep", decisions, deep(100_000).encode())
    yield Hostile("decision-note-list", decisions, b'{"action":"accept","note":[1]}')
    yield Hostile(
        "decision-note-too-long",
        decisions,
        json.dumps({"action": "accept", "note": "n" * 20_000}).encode(),
    )
    yield Hostile(
        "decision-note-over-body-limit",
        decisions,
        json.dumps({"action": "accept", "note": "n" * 400_000}).encode(),
    )
    yield Hostile("decision-action-nul", decisions, b'{"action":"accept\\u0000"}')
    yield Hostile("decision-actor-surrogate", decisions, b'{"action":"accept","actor":"\\ud800"}')
    yield Hostile("decision-case-nul", "/v1/cases/C%00x/decisions", b'{"action":"accept"}')
    yield Hostile("pipeline-flush-with-body", "/v1/pipeline/flush", deep(100_000).encode())
    yield Hostile("cases-cursor-nul", "/v1/cases?cursor=%00", b"", method="GET")
    yield Hostile("cases-limit-huge", "/v1/cases?limit=" + "9" * 5000, b"", method="GET")
    yield Hostile("cases-status-list", "/v1/cases?status=open&status=closed", b"", method="GET")
    yield Hostile("case-id-surrogate", "/v1/cases/%ED%A0%80", b"", method="GET")
    yield Hostile("blocklist-format-nul", "/v1/blocklist?format=%00", b"", method="GET")


def all_cases() -> list[Hostile]:
    return [*ingest_cases(), *otlp_cases(), *litellm_cases(), *other_cases()]
