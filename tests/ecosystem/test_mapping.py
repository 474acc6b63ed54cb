"""The pure mappers: GenAI spans and LiteLLM payloads to record dicts, transcripts."""

from __future__ import annotations

from typing import Any

import pytest

from detector.errors import BadBatchError
from detector.ingest.litellm import payload_record, split_payloads
from detector.ingest.mapped import MapContext, MapError
from detector.ingest.messages import read_input, tool_calls_of, tool_names_of
from detector.ingest.otlp import SpanView
from detector.ingest.otlp_genai import map_spans, span_record

CTX = MapContext(key=b"k", max_prompt_chars=20)
TRACE = "ab" * 16


def span(span_id: str, attrs: dict[str, Any], parent: str = "", **kw: Any) -> SpanView:
    values: dict[str, Any] = {
        "trace_id": TRACE,
        "span_id": span_id,
        "parent_span_id": parent,
        "name": "s",
        "start_ns": 1_771_804_800 * 10**9,
        "end_ns": 1_771_804_801 * 10**9,
        "error": False,
        "attributes": attrs,
        "resource": {},
    }
    values.update(kw)
    return SpanView(**values)


CALL = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m", "user.id": "a"}


def tool(span_id: str, name: str, parent: str) -> SpanView:
    attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name}
    return span(span_id, attrs, parent)


def test_tool_spans_fold_through_wrappers_and_orphans_are_counted() -> None:
    spans = [
        span("01", CALL),
        span("02", {"framework.step": "x"}, parent="01"),  # not a GenAI span
        tool("03", "grep", parent="02"),
        tool("04", "grep", parent="01"),  # the same tool twice: listed once
        tool("05", "ls", parent="99"),  # its call is not in this request
        span("06", {"http.method": "GET"}),
    ]
    mapped, outcome = map_spans(spans, CTX)
    assert [r["event_id"] for r in mapped.records] == [f"otlp-{TRACE}-01"]
    assert mapped.records[0]["response_tool_call_names"] == ["grep"]
    assert outcome.orphan_tool_spans == 1
    assert outcome.skipped["not_genai"] == 2
    assert mapped.errors == []


def test_detector_attributes_win_and_resource_fills_in() -> None:
    record = span_record(
        span(
            "01",
            {**CALL, "detector.account_id": "acct-x", "client.address": "gw.internal"},
            resource={"detector.channel": "cloud:bedrock", "user.id": "ignored"},
        ),
        CTX,
    )
    assert record["account_id"] == "acct-x"
    assert record["channel"] == "cloud:bedrock"
    assert "client_ip" not in record
    assert record["attributes"]["client.address"] == "gw.internal"


def test_long_prompt_keeps_fingerprints_but_not_text() -> None:
    messages = '[{"role": "user", "content": "' + "x" * 50 + '"}]'
    record = span_record(span("01", {**CALL, "gen_ai.input.messages": messages}), CTX)
    assert record["prompt_chars"] == 50
    assert "prompt_fingerprint" in record
    assert "prompt_text" not in record  # over max_prompt_chars (20)


def test_cached_tokens_reported_apart_are_added_to_input() -> None:
    attrs = {
        **CALL,
        "gen_ai.usage.input_tokens": 10.0,
        "gen_ai.usage.cache_read.input_tokens": "900",
    }
    record = span_record(span("01", attrs), CTX)
    assert (record["input_tokens"], record["cache_read_input_tokens"]) == (910, 900)


def test_required_fields_name_where_to_set_them() -> None:
    with pytest.raises(MapError, match=r"^request_model: required; set"):
        span_record(span("01", {"gen_ai.operation.name": "chat", "user.id": "a"}), CTX)
    strict = MapContext(key=b"k", max_prompt_chars=20, identity_fallback=False)
    nobody = span("01", {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m"})
    mapped, _ = map_spans([nobody], strict)
    assert mapped.records == []
    assert mapped.errors[0].field == "account_id"
    assert mapped.errors[0].message.startswith("account_id: required; set")


def test_span_without_start_is_refused() -> None:
    with pytest.raises(MapError, match="ts_start: the span has no startTimeUnixNano"):
        span_record(span("01", CALL, start_ns=0), CTX)


def test_transcript_in_both_shapes() -> None:
    genai = read_input(
        [
            {"role": "user", "parts": [{"type": "text", "content": "a"}]},
            {"role": "assistant", "parts": [{"type": "tool_call", "name": "f"}]},
            {"role": "user", "parts": [{"type": "uri", "modality": "image"}, "b"]},
        ],
        system='[{"type": "text", "content": "S"}]',
    )
    assert (genai.message_count, genai.image_inputs) == (3, 1)
    assert (genai.last_user_text, genai.system_text) == ("b", "S")
    openai = read_input('{"messages": [{"role": "developer", "content": "D"}]}')
    assert (openai.message_count, openai.system_text, openai.last_user_text) == (0, "D", None)
    assert read_input("not json").message_count == 0
    assert tool_calls_of([{"tool_calls": [{"function": {"name": "g"}}, {"name": "h"}]}]) == [
        "g",
        "h",
    ]
    assert tool_names_of(['{"name": "a"}', "b", {"function": {"name": "c"}}, 7]) == ["a", "b", "c"]


BASE: dict[str, Any] = {
    "id": "chatcmpl-1",
    "startTime": 1_771_804_800.0,
    "model": "m",
    "metadata": {"user_api_key_team_id": "team-1", "user_api_key_hash": "h1"},
    "end_user": "u-9",
}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"model_parameters": {"reasoning_effort": "minimal"}}, {"reasoning_mode": "low"}),
        ({"model_parameters": {"thinking": {"type": "enabled"}}}, {"reasoning_mode": "enabled"}),
        ({"call_type": "aembedding"}, {"operation": "embeddings"}),
        ({"call_type": "anthropic_messages"}, {"operation": "chat"}),
        ({"requester_ip_address": "not-an-ip"}, {"client_ip": None}),
        ({"requester_ip_address": "2001:db8::1"}, {"client_ip": "2001:db8::1"}),
        (
            {"status": "failure", "error_information": {"error_code": "429"}},
            {"status": "error", "http_status": 429},
        ),
    ],
    ids=["effort", "thinking", "embedding", "anthropic", "bad-ip", "ipv6", "failure"],
)
def test_litellm_fields(extra: dict[str, Any], expected: dict[str, Any]) -> None:
    record = payload_record({**BASE, **extra}, CTX)
    assert record["account_id"] == "team-1"
    assert record["end_user_id"] == "u-9"
    assert record["api_key_id"] == "h1"
    assert record["event_id"] == "litellm-chatcmpl-1"
    for name, value in expected.items():
        assert record.get(name) == value


def test_litellm_bodies() -> None:
    assert split_payloads(b'{"a": 1}', max_items=5) == [{"a": 1}]
    assert split_payloads(b'[{"a": 1}, {"a": 2}]', max_items=5) == [{"a": 1}, {"a": 2}]
    items = split_payloads(b'{"a": 1}\n{broken\n{"a": 3}\n', max_items=5)
    assert items[0] == {"a": 1} and items[2] == {"a": 3}
    with pytest.raises(BadBatchError, match="StandardLoggingPayload"):
        split_payloads(b"{broken", max_items=5)
    with pytest.raises(BadBatchError, match="over the limit of 1"):
        split_payloads(b"[1, 2]", max_items=1)


def test_litellm_proxy_without_virtual_keys() -> None:
    """The proxy names every call of a key-less set-up ``default_user_id``, and logs the
    deployment it routed to as ``model``: neither is what the record wants."""
    payload = {
        "id": "chatcmpl-2",
        "startTime": 1_771_804_800.0,
        "model": "openai/gpt-4o-mini",
        "model_group": "gpt-4o-mini",
        "metadata": {"user_api_key_user_id": "default_user_id"},
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "status": "failure",
    }
    ctx = MapContext(key=b"k", max_prompt_chars=20, sender="key-1")
    record = payload_record(payload, ctx)
    assert record["account_id"] == "unattributed:litellm:key-1"
    assert record["attributes"]["detector.identity"] == "fallback"
    assert record["request_model"] == "gpt-4o-mini"
    assert "input_tokens" not in record and "output_tokens" not in record
    strict = MapContext(key=b"k", max_prompt_chars=20, identity_fallback=False)
    with pytest.raises(MapError, match=r"^account_id: required"):
        payload_record(payload, strict)
    named = {**payload, "model_parameters": {"user": "acct-5"}}
    assert payload_record(named, ctx)["account_id"] == "acct-5"
