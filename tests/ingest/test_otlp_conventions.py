"""The OTLP mapping across conventions: identity and its inheritance, one record per
call, spans that are no call, and the names each client uses for the same field."""

from __future__ import annotations

from typing import Any

import pytest

from detector.ingest.mapped import MapContext
from detector.ingest.otlp import SpanView
from detector.ingest.otlp_genai import map_spans

CTX = MapContext(key=b"k", max_prompt_chars=100, sender="key-test")
T1, T2 = "a1" * 16, "b2" * 16
CALL = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m"}


def span(
    span_id: str,
    attrs: dict[str, Any],
    parent: str = "",
    trace: str = T1,
    resource: dict[str, Any] | None = None,
) -> SpanView:
    return SpanView(
        trace_id=trace,
        span_id=span_id * 8,
        parent_span_id=parent * 8 if parent else "",
        name="s",
        start_ns=1_771_804_800 * 10**9,
        end_ns=1_771_804_801 * 10**9,
        error=False,
        attributes=attrs,
        resource=resource or {"service.name": "svc"},
    )


def one(spans: list[SpanView]) -> dict[str, Any]:
    mapped, _ = map_spans(spans, CTX)
    assert mapped.errors == []
    [record] = mapped.records
    return record


def test_a_call_inherits_the_caller_from_the_request_span_above_it() -> None:
    server = {
        "enduser.id": "acct-1",
        "client.address": "203.0.113.5",
        "user_agent.original": "app/1.0",
        "http.request.method": "POST",
    }
    record = one([span("01", server), span("02", {}, "01"), span("03", CALL, "02")])
    assert record["account_id"] == "acct-1"
    assert (record["client_ip"], record["user_agent"]) == ("203.0.113.5", "app/1.0")
    assert record["attributes"]["detector.account_from"] == "inherited enduser.id"


def test_the_calls_own_names_win_over_an_ancestors_and_the_resources() -> None:
    resource = {"service.name": "svc", "enduser.id": "from-resource"}
    own = {**CALL, "gen_ai.user": "acct-own"}
    record = one([span("01", {"enduser.id": "acct-up"}), span("02", own, "01", resource=resource)])
    assert record["account_id"] == "acct-own"
    alone = one([span("03", CALL, resource=resource)])
    assert alone["account_id"] == "from-resource"


@pytest.mark.parametrize(
    "name",
    [
        "enduser.id",
        "user.id",
        "gen_ai.user",
        "llm.user",
        "traceloop.association.properties.user_id",
        "metadata.user_api_key_user_id",
        "anthropic.organization.id",
    ],
)
def test_each_convention_names_the_caller(name: str) -> None:
    assert (
        one([span("01", {**CALL, name: "acct-x", "metadata.user_api_key_team_id": ""})])[
            "account_id"
        ]
        == "acct-x"
    )


def test_one_call_seen_by_two_instrumentations_is_one_record() -> None:
    sdk = {**CALL, "gen_ai.response.id": "msg_1", "anthropic.organization.id": "org-1"}
    wrapper = {
        **CALL,
        "gen_ai.response.id": "msg_1",
        "gen_ai.user": "acct-1",
        "gen_ai.input.messages": '[{"role": "user", "content": "hi"}]',
    }
    mapped, outcome = map_spans([span("01", sdk, trace=T1), span("02", wrapper, trace=T2)], CTX)
    [record] = mapped.records
    assert record["event_id"] == "otlp-response-msg_1"
    assert (record["account_id"], record["org_id"], record["message_count"]) == (
        "acct-1",
        "org-1",
        1,
    )
    assert outcome.skipped["same_call"] == 1
    # Without a response id: a call nested in a call of the same trace is that call.
    mapped, outcome = map_spans([span("03", {**CALL, "user.id": "a"}), span("04", CALL, "03")], CTX)
    assert len(mapped.records) == 1 and outcome.skipped["same_call"] == 1


@pytest.mark.parametrize(
    "attrs",
    [
        {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "helper"},
        {"gen_ai.operation.name": "create_agent"},
        {"traceloop.span.kind": "workflow"},
        {"openinference.span.kind": "AGENT"},
        {"openinference.span.kind": "CHAIN"},
        {"openinference.span.kind": "RETRIEVER"},
    ],
    ids=["invoke_agent", "create_agent", "traceloop", "oi-agent", "oi-chain", "oi-retriever"],
)
def test_grouping_spans_are_never_calls(attrs: dict[str, Any]) -> None:
    spans = [span("01", {**attrs, "user.id": "a"}), span("02", CALL, "01")]
    mapped, outcome = map_spans(spans, CTX)
    assert len(mapped.records) == 1
    assert outcome.skipped["grouping"] == 1
    assert mapped.records[0]["account_id"] == "a"  # inherited through it


def test_openinference_llm_span() -> None:
    attrs = {
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt-4o",
        "llm.provider": "openai",
        "user.id": "acct-oi",
        "session.id": "conv-9",
        "llm.token_count.prompt": 10,
        "llm.token_count.completion": 5,
        "llm.token_count.completion_details.reasoning": 2,
        "llm.token_count.prompt_details.cache_read": 4,
        "llm.invocation_parameters": '{"reasoning_effort": "minimal", "stream": true}',
        "llm.input_messages.0.message.role": "system",
        "llm.input_messages.0.message.content": "Be brief.",
        "llm.input_messages.1.message.role": "user",
        "llm.input_messages.1.message.content": "Why?",
        "llm.tools.0.tool.json_schema": '{"type": "function", "function": {"name": "grep"}}',
        "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "grep",
        "llm.finish_reason": "tool_calls",
    }
    record = one([span("01", attrs)])
    assert (record["operation"], record["request_model"], record["provider"]) == (
        "chat",
        "gpt-4o",
        "openai",
    )
    assert (record["input_tokens"], record["output_tokens"]) == (10, 5)
    assert (record["reasoning_output_tokens"], record["cache_read_input_tokens"]) == (2, 4)
    assert (record["reasoning_mode"], record["stream"]) == ("low", True)
    assert (record["message_count"], record["prompt_text"]) == (1, "Why?")
    assert "system_fingerprint" in record
    assert record["tool_names"] == record["response_tool_call_names"] == ["grep"]
    assert record["finish_reason"] == "tool_calls"
    assert record["attributes"]["gen_ai.conversation.id"] == "conv-9"


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        ({"gen_ai.request.reasoning.level": "high"}, {"reasoning_mode": "high"}),
        ({"gen_ai.request.reasoning_effort": "xhigh"}, {"reasoning_mode": "high"}),
        ({"llm.openai.reasoning_effort": "medium"}, {"reasoning_mode": "medium"}),
        ({"anthropic.thinking.type": "adaptive"}, {"reasoning_mode": "adaptive"}),
        ({"gen_ai.request.reasoning_effort": "turbo"}, {"reasoning_mode": None}),
        ({"gen_ai.usage.reasoning_tokens": 7}, {"reasoning_output_tokens": 7}),
        ({"gen_ai.is_streaming": False}, {"stream": False}),
        ({"llm.is_streaming": "True"}, {"stream": True}),
        ({"gen_ai.response.finish_reasons": '["stop"]'}, {"finish_reason": "stop"}),
        ({"anthropic.message.stop_reason": "end_turn"}, {"finish_reason": "end_turn"}),
        ({"gen_ai.operation.name": "acompletion"}, {"operation": "chat"}),
        ({"gen_ai.operation.name": "aembedding"}, {"operation": "embeddings"}),
        ({"llm.request.functions.0.name": "ls"}, {"tool_names": ["ls"]}),
        (
            {"llm.openai.tools": "[{'type': 'function', 'function': {'name': 'ls'}}]"},
            {"tool_names": ["ls"]},
        ),
        ({"llm.openai.tools": "[" * 5000}, {"tool_names": None}),
        ({"gen_ai.completion.0.function_call.name": "ls"}, {"response_tool_call_names": ["ls"]}),
        ({"metadata.user_api_key_hash": "h"}, {"api_key_id": "h"}),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else None,
)
def test_names_of_the_same_field(attrs: dict[str, Any], expected: dict[str, Any]) -> None:
    record = one([span("01", {**CALL, "user.id": "a", **attrs})])
    for name, value in expected.items():
        assert record.get(name) == value


def test_unknown_counts_stay_unknown_and_no_caller_is_the_marked_fallback() -> None:
    # The LiteLLM proxy's placeholder for calls without a virtual key names no one.
    placeholder = {**CALL, "metadata.user_api_key_user_id": "default_user_id"}
    mapped, outcome = map_spans([span("01", placeholder)], CTX)
    [record] = mapped.records
    assert "input_tokens" not in record and "output_tokens" not in record
    assert record["account_id"] == "unattributed:svc:key-test"
    assert record["attributes"]["detector.identity"] == "fallback"
    assert outcome.fallback == 1


def test_a_conversation_lends_its_caller_to_its_turns_that_name_none() -> None:
    first = {**CALL, "gen_ai.conversation.id": "c-1", "user.id": "acct-c"}
    later = {**CALL, "gen_ai.conversation.id": "c-1"}
    mapped, outcome = map_spans([span("01", first), span("02", later, trace=T2)], CTX)
    assert [r["account_id"] for r in mapped.records] == ["acct-c", "acct-c"]
    assert mapped.records[1]["attributes"]["detector.account_from"] == (
        "conversation gen_ai.conversation.id"
    )
    assert outcome.fallback == 0
