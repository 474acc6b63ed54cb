"""``openai-agents`` with ``opentelemetry-instrumentation-openai-agents-v2``.

Recipe: as for any instrumentation that records no caller, the application names the
caller on the span around ``Runner.run``; every span of the run inherits it.
"""

from __future__ import annotations

from tests.ecosystem.clients.common import args, done, export_to_detector

a = args()
export_to_detector(a, "agent-runner")

import asyncio  # noqa: E402

from agents import Agent, OpenAIResponsesModel, Runner  # noqa: E402
from openai import AsyncOpenAI  # noqa: E402
from opentelemetry import trace  # noqa: E402
from opentelemetry.instrumentation.openai_agents import OpenAIAgentsInstrumentor  # noqa: E402

OpenAIAgentsInstrumentor().instrument()
client = AsyncOpenAI(base_url=f"{a.standin}/v1", api_key="sk-standin", max_retries=0)
model = OpenAIResponsesModel(model="gpt-4o-mini", openai_client=client)
agent = Agent(name="helper", instructions="Be brief.", model=model)
tracer = trace.get_tracer("agent-runner")


async def main() -> None:
    for account in ("acct-ag-1", "acct-ag-2"):
        with tracer.start_as_current_span("run", attributes={"enduser.id": account}):
            await Runner.run(agent, "Why is 17 prime?")


asyncio.run(main())
done()
