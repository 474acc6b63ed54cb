"""LiteLLM itself, with mocked model answers, logging through its generic_api callback.

Run as a script (``python tests/ecosystem/litellm_client.py URL TOKEN FORMAT...``) so
that LiteLLM's process-wide state and its import cost stay out of the test process.
The three calls' payloads are sent once in each ``log_format`` given, in order, and
the script prints what our endpoint answered each post, as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time

# Offline: LiteLLM would otherwise fetch its model price map from GitHub at import.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import litellm
from litellm.integrations.generic_api.generic_api_callback import GenericAPILogger

SYSTEM = "You are an expert data analyst with transparent reasoning."
TOOL = {
    "type": "function",
    "function": {"name": "run_sql", "parameters": {"type": "object", "properties": {}}},
}


async def main(url: str, token: str, *log_formats: str) -> None:
    logger = GenericAPILogger(
        endpoint=f"{url}/v1/litellm",
        headers={"Authorization": f"Bearer {token}"},
        batch_size=1000,
        flush_interval=3600,
    )
    litellm.callbacks = [logger]
    answers: list[dict[str, object]] = []
    original = logger._post_with_retries

    async def recording(data: str):  # type: ignore[no-untyped-def]
        response = await original(data)
        answers.append(
            {"format": logger.log_format, "status": response.status_code, "body": response.json()}
        )
        return response

    logger._post_with_retries = recording  # type: ignore[method-assign]
    await litellm.acompletion(
        model="anthropic/claude-opus-4-6",
        messages=[
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Explain, step by step, why 17 is prime."},
        ],
        user="acct-litellm-1",
        reasoning_effort="high",
        tools=[TOOL],
        # LiteLLM routes calls with tools through its MCP client, an optional extra.
        _skip_mcp_handler=True,
        mock_response={
            "id": "chatcmpl-mock-1",
            "model": "claude-opus-4-6",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "run_sql", "arguments": "{}"},
                            }
                        ],
                    },
                }
            ],
            "usage": {
                "prompt_tokens": 1500,
                "completion_tokens": 400,
                "total_tokens": 1900,
                "prompt_tokens_details": {"cached_tokens": 1024},
                "completion_tokens_details": {"reasoning_tokens": 250},
            },
        },
    )
    await litellm.acompletion(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Hello there"}],
        metadata={"spend_logs_metadata": {"account_id": "acct-litellm-2", "channel": "batch"}},
        mock_response="General Kenobi",
    )
    # The failure is the point: LiteLLM logs it as a failure event.
    with contextlib.suppress(Exception):
        await litellm.acompletion(
            model="gpt-4o",
            messages=[{"role": "user", "content": "fail please"}],
            user="acct-litellm-3",
            mock_response=Exception("upstream exploded"),
        )
    # A stream: the mocked provider sends no usage chunk.
    stream = await litellm.acompletion(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Stream it"}],
        user="acct-litellm-4",
        stream=True,
        mock_response="streamed answer",
    )
    async for _ in stream:
        pass
    deadline = time.monotonic() + 20
    while len(logger.log_queue) < 4 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    payloads = list(logger.log_queue)
    for log_format in log_formats:
        logger.log_format = log_format  # type: ignore[assignment]
        logger.log_queue = list(payloads)
        await logger.async_send_batch()  # type: ignore[no-untyped-call]
    print(json.dumps({"queued": len(payloads), "answers": answers}))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
