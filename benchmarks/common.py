"""Shared pieces of the benchmarks: synthetic-looking records, peak RSS, a table printer."""

from __future__ import annotations

import resource
import sys

import numpy as np
import orjson

_MODELS = ("claude-opus-4-6", "claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-5")
_AGENTS = (
    "anthropic-sdk-python/0.75.0",
    "anthropic-sdk-typescript/0.71.2",
    "litellm/1.80.0",
    "claude-code/2.1.3",
    "openai-python/2.8.0",
)
_TOOLS = (["bash", "str_replace_based_edit_tool"], ["web_search"], [], [], [])


def make_records(count: int, seed: int = 7) -> list[dict[str, object]]:
    """Records shaped like gateway logs: a few thousand accounts, heavy-tailed volume."""
    rng = np.random.default_rng(seed)
    accounts = rng.zipf(1.3, size=count) % 20_000
    starts = 1_767_571_200 + np.sort(rng.uniform(0, 56 * 86_400, size=count))
    inputs = rng.lognormal(7.5, 1.2, size=count).astype(int)
    outputs = rng.lognormal(6.0, 1.0, size=count).astype(int)
    templates = rng.integers(0, 5_000, size=count)
    records = []
    for i in range(count):
        account = int(accounts[i])
        records.append(
            {
                "event_id": f"{seed:04x}-{i:012x}",
                "ts_start": round(float(starts[i]), 3),
                "ts_end": round(float(starts[i]) + 2.5, 3),
                "account_id": f"acct_{account:06d}",
                "api_key_id": f"key_{account:06d}_{i % 3}",
                "request_model": _MODELS[i % 4],
                "client_ip": f"203.{account % 250}.{(account // 250) % 250}.{i % 200}",
                "user_agent": _AGENTS[account % 5],
                "provider": "anthropic",
                "operation": "chat",
                "channel": "api",
                "input_tokens": int(inputs[i]),
                "output_tokens": int(outputs[i]),
                "cache_read_input_tokens": int(inputs[i]) // 3,
                "reasoning_mode": "none" if i % 4 else "enabled",
                "tool_names": _TOOLS[account % 5],
                "message_count": 1 + i % 17,
                "system_fingerprint": f"{account % 700:032x}",
                "template_fingerprint": f"{int(templates[i]):032x}",
                "prompt_fingerprint": f"{i * 2654435761 % 2**64:032x}",
                "prompt_chars": 40 + i % 3000,
                "status": "success",
                "http_status": 200,
                "finish_reason": "end_turn",
                "stream": bool(i % 2),
            }
        )
    return records


def ndjson_batches(records: list[dict[str, object]], size: int) -> list[bytes]:
    return [
        b"\n".join(orjson.dumps(r) for r in records[start : start + size])
        for start in range(0, len(records), size)
    ]


def peak_rss_mb(children: bool = False) -> float:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    kb = resource.getrusage(who).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
