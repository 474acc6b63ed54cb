"""OpenInference: ``openinference-instrumentation-openai`` around the OpenAI SDK.

Recipe: ``using_attributes(user_id=..., session_id=...)`` around the call; its spans
then carry ``user.id`` and ``session.id``.
"""

from __future__ import annotations

from tests.ecosystem.clients.common import args, done, export_to_detector

a = args()
export_to_detector(a, "research-tool")

import openai  # noqa: E402
from openinference.instrumentation import using_attributes  # noqa: E402
from openinference.instrumentation.openai import OpenAIInstrumentor  # noqa: E402

OpenAIInstrumentor().instrument()
client = openai.OpenAI(base_url=f"{a.standin}/v1", api_key="sk-standin", max_retries=0)
tool = {"type": "function", "function": {"name": "run_sql", "parameters": {"type": "object"}}}

with using_attributes(user_id="acct-oi-1", session_id="conv-1"):
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Why is 17 prime?"},
        ],
        tools=[tool],
        reasoning_effort="high",
    )
with using_attributes(user_id="acct-oi-2"):
    for _ in client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Why is 19 prime?"}],
        stream=True,
    ):
        pass
done()
