"""LiteLLM's own OpenTelemetry callback, ``callbacks=["otel"]``.

Recipe: ``user=`` on the call (LiteLLM records it as ``llm.user``/``gen_ai.user``),
or ``metadata={"user_api_key_user_id": ...}`` as its proxy sets it.
"""

from __future__ import annotations

import os

from tests.ecosystem.clients.common import args

a = args()
os.environ["OTEL_EXPORTER"] = "otlp_http"
os.environ["OTEL_ENDPOINT"] = f"{a.detector}/v1/traces"
os.environ["OTEL_HEADERS"] = f"Authorization=Bearer {a.token}"
os.environ["OTEL_SERVICE_NAME"] = "litellm-app"

import asyncio  # noqa: E402
import json  # noqa: E402

import litellm  # noqa: E402

litellm.callbacks = ["otel"]
TOOL = {"type": "function", "function": {"name": "run_sql", "parameters": {"type": "object"}}}


async def main() -> None:
    await litellm.acompletion(
        model="openai/gpt-4o-mini",
        api_base=f"{a.standin}/v1",
        api_key="sk-standin",
        messages=[{"role": "user", "content": "Why is 17 prime?"}],
        user="acct-lo-1",
    )
    await litellm.acompletion(
        model="openai/o3-mini",
        api_base=f"{a.standin}/v1",
        api_key="sk-standin",
        messages=[{"role": "user", "content": "Why is 19 prime?"}],
        metadata={"user_api_key_user_id": "acct-lo-2"},
        reasoning_effort="medium",
        tools=[TOOL],
    )
    await asyncio.sleep(0.5)
    for callback in litellm.callbacks:
        provider = getattr(callback, "tracer_provider", None) or getattr(
            getattr(callback, "tracer", None), "provider", None
        )
        flush = getattr(provider, "force_flush", None)
        if flush is not None:
            flush(10_000)
    from opentelemetry import trace

    flush = getattr(trace.get_tracer_provider(), "force_flush", None)
    if flush is not None:
        flush(10_000)
    print(json.dumps({}))


asyncio.run(main())
