"""Spans from the real OpenTelemetry SDK and its OTLP/HTTP exporter, into the live server."""

from __future__ import annotations

import json

import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
from opentelemetry.trace import Status, StatusCode
from sqlalchemy import Engine

from detector.config import Settings
from detector.fingerprints import prompt_fingerprint, system_fingerprint, template_fingerprint
from tests.ecosystem.stored import stored_records
from tests.support.server import LiveServer

pytestmark = pytest.mark.db


def _provider(server: LiveServer, compression: Compression | None = None) -> TracerProvider:
    provider = TracerProvider(
        resource=Resource.create({"service.name": "gateway", "detector.channel": "api"})
    )
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(
                endpoint=f"{server.url}/v1/traces",
                headers={"Authorization": f"Bearer {server.token}"},
                compression=compression,
            )
        )
    )
    return provider


def test_exported_genai_spans_become_records(
    server: LiveServer, engine: Engine, settings: Settings
) -> None:
    provider = _provider(server, compression=Compression.Gzip)
    tracer = provider.get_tracer("test")
    messages = [
        {"role": "user", "parts": [{"type": "text", "content": "Rate answer 17 of 'x'"}]},
        {"role": "assistant", "parts": [{"type": "text", "content": "ok"}]},
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "Explain step by step why 2+2=4."},
                {"type": "blob", "modality": "image", "mime_type": "image/png"},
            ],
        },
    ]
    with tracer.start_as_current_span("invoke_agent helper") as agent:
        agent.set_attribute("gen_ai.operation.name", "invoke_agent")
        agent.set_attribute("gen_ai.request.model", "claude-opus-4-6")
        agent.set_attribute("enduser.id", "acct-agent")
        with tracer.start_as_current_span("chat claude-opus-4-6") as chat:
            chat.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "anthropic",
                    "gen_ai.request.model": "claude-opus-4-6",
                    "detector.account_id": "acct-1",
                    "gen_ai.usage.input_tokens": 1200,
                    "gen_ai.usage.output_tokens": 300,
                    "gen_ai.usage.cache_read.input_tokens": 1000,
                    "gen_ai.usage.reasoning.output_tokens": 120,
                    "gen_ai.response.finish_reasons": ["tool_use"],
                    "gen_ai.request.stream": True,
                    "client.address": "203.0.113.9",
                    "user_agent.original": "anthropic-python/0.60",
                    "gen_ai.input.messages": json.dumps(messages),
                    "gen_ai.system_instructions": json.dumps(
                        [{"type": "text", "content": "You are an expert data analyst."}]
                    ),
                    "gen_ai.tool.definitions": json.dumps(
                        [{"type": "function", "name": "run_sql"}, {"name": "plot"}]
                    ),
                }
            )
            chat_ids = chat.get_span_context()
            with tracer.start_as_current_span("execute_tool run_sql") as tool:
                tool.set_attribute("gen_ai.operation.name", "execute_tool")
                tool.set_attribute("gen_ai.tool.name", "run_sql")
        # Old names, as instrumentations before the 1.37 conventions send them.
        with tracer.start_as_current_span("chat gpt-4o") as old:
            old.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.system": "openai",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.request.user": "acct-2",
                    "gen_ai.usage.prompt_tokens": 50,
                    "gen_ai.usage.completion_tokens": 7,
                    "gen_ai.prompt.0.role": "system",
                    "gen_ai.prompt.0.content": "Be terse.",
                    "gen_ai.prompt.1.role": "user",
                    "gen_ai.prompt.1.content": "Hello   WORLD",
                }
            )
            old.set_status(Status(StatusCode.ERROR, "upstream 529"))
            old_ids = old.get_span_context()
        with tracer.start_as_current_span("http GET") as plain:
            plain.set_attribute("http.request.method", "GET")
    assert provider.force_flush(10_000)
    provider.shutdown()

    records = stored_records(engine)
    key = settings.fingerprint_key.get_secret_value().encode()
    chat_id = f"otlp-{chat_ids.trace_id:032x}-{chat_ids.span_id:016x}"
    old_id = f"otlp-{old_ids.trace_id:032x}-{old_ids.span_id:016x}"
    # Two model calls (chat, old chat): the agent span groups calls and is none; the
    # tool span is folded, the HTTP span skipped.
    assert len(records) == 2
    chat_record = records[chat_id]
    expected_prompt = "Explain step by step why 2+2=4."
    assert chat_record["account_id"] == "acct-1"
    assert chat_record["channel"] == "api"
    assert chat_record["provider"] == "anthropic"
    assert chat_record["operation"] == "chat"
    assert chat_record["input_tokens"] == 1200
    assert chat_record["cache_read_input_tokens"] == 1000
    assert chat_record["reasoning_output_tokens"] == 120
    assert chat_record["finish_reason"] == "tool_use"
    assert chat_record["stream"] is True
    assert chat_record["client_ip"] == "203.0.113.9"
    assert chat_record["tool_names"] == ["run_sql", "plot"]
    assert chat_record["response_tool_call_names"] == ["run_sql"]
    assert chat_record["message_count"] == 3
    assert chat_record["image_inputs"] == 1
    assert chat_record["prompt_chars"] == len(expected_prompt)
    assert chat_record["prompt_fingerprint"] == prompt_fingerprint(expected_prompt, key)
    assert chat_record["template_fingerprint"] == template_fingerprint(expected_prompt, key)
    assert chat_record["system_fingerprint"] == system_fingerprint(
        "You are an expert data analyst.", key
    )
    assert "prompt_text" not in chat_record  # not kept unless configured
    assert chat_record["ts_end"] >= chat_record["ts_start"] > 1.7e9
    assert chat_record["attributes"]["service.name"] == "gateway"

    old_record = records[old_id]
    assert old_record["provider"] == "openai"
    assert old_record["account_id"] == "acct-2"
    assert (old_record["input_tokens"], old_record["output_tokens"]) == (50, 7)
    assert old_record["status"] == "error"
    assert old_record["prompt_fingerprint"] == prompt_fingerprint("hello world", key)
    assert old_record["system_fingerprint"] == system_fingerprint("Be terse.", key)


def test_export_again_is_duplicates_not_new_records(server: LiveServer, engine: Engine) -> None:
    exporter = OTLPSpanExporter(
        endpoint=f"{server.url}/v1/traces", headers={"Authorization": f"Bearer {server.token}"}
    )
    provider = TracerProvider()
    tracer = provider.get_tracer("test")
    spans: list[ReadableSpan] = []
    for n in range(3):
        with tracer.start_as_current_span(f"chat {n}") as span:
            span.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": "m",
                    "user.id": f"acct-{n}",
                }
            )
        assert isinstance(span, ReadableSpan)
        spans.append(span)
    assert exporter.export(spans) == SpanExportResult.SUCCESS
    assert exporter.export(spans) == SpanExportResult.SUCCESS
    assert len(stored_records(engine)) == 3
