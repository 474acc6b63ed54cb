"""``opentelemetry-instrumentation-openai-v2`` around the OpenAI SDK.

Recipe: the instrumentation records no caller (not even ``user=``), so the application
names the caller on the span that handles the request; the GenAI span inherits it.
"""

from __future__ import annotations

from tests.ecosystem.clients.common import args, done, export_to_detector

a = args()
export_to_detector(a, "shop-api")

import openai  # noqa: E402
from opentelemetry import trace  # noqa: E402
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor  # noqa: E402

OpenAIInstrumentor().instrument()
client = openai.OpenAI(base_url=f"{a.standin}/v1", api_key="sk-standin", max_retries=0)
tracer = trace.get_tracer("shop-api")

for n, account in enumerate(["acct-v2-1", "acct-v2-2"]):
    caller = {
        "enduser.id": account,
        "client.address": f"203.0.113.{n + 1}",
        "user_agent.original": "shop-web/2.1",
    }
    with tracer.start_as_current_span("POST /ask", kind=trace.SpanKind.SERVER, attributes=caller):
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Why is 17 prime?"}],
            user=account,
            reasoning_effort="low",
        )
        stream = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Why is 19 prime?"}],
            stream=True,
        )
        for _ in stream:
            pass
done()
