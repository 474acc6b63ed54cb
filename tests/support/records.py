"""Seeded factories of canonical records and accounts, and the body forms of CONTRACT §1.

``record_factory`` is a fixture that returns a ``RecordFactory``; the same seed gives
the same records, so every failure reproduces. ``encode`` turns a list of items into
one of the accepted body forms with the headers that go with it.
"""

from __future__ import annotations

import gzip
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
import pytest
from sqlalchemy import Engine

from detector.store.event_log import iter_segments

# 2026-02-23T00:00:00Z: a fixed event-time origin, so stored values are predictable.
EPOCH = 1_771_804_800.0

MODELS = ("claude-opus-4-6", "claude-sonnet-4-6", "gpt-5", "gemini-3-pro")
PROVIDERS = ("anthropic", "openai", "google")
TOOLS = ("search", "python", "browser", "calculator")
AGENTS = ("anthropic-python/0.50.0", "openai-python/1.90.0", "curl/8.5.0", "litellm/1.74")
PROGRAMS = ("standard", "edu", "startup", "research", "enterprise")

Form = Literal["array", "object", "ndjson"]
FORMS: tuple[Form, ...] = ("array", "object", "ndjson")


@dataclass
class RecordFactory:
    """Valid records and accounts, drawn from a seeded RNG, with unique ids."""

    seed: int = 0
    rng: random.Random = field(init=False)
    _ids: Iterator[int] = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._ids = itertools.count()

    def record(self, **overrides: Any) -> dict[str, Any]:
        """One valid record; ``overrides`` replace or add fields (``None`` removes one)."""
        rng = self.rng
        number = next(self._ids)
        output = rng.randint(1, 4000)
        prompt = rng.randint(10, 20_000)
        record: dict[str, Any] = {
            "event_id": f"evt-{self.seed}-{number:07d}",
            "ts_start": EPOCH + number * 1.5 + rng.random(),
            "account_id": f"acct-{rng.randint(0, 49):03d}",
            "request_model": rng.choice(MODELS),
            "api_key_id": f"key-{rng.randint(0, 99):03d}",
            "client_ip": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            "user_agent": rng.choice(AGENTS),
            "provider": rng.choice(PROVIDERS),
            "input_tokens": prompt,
            "cache_read_input_tokens": rng.randint(0, prompt),
            "output_tokens": output,
            "reasoning_output_tokens": rng.randint(0, output),
            "reasoning_mode": rng.choice(("none", "enabled", "high")),
            "tool_names": rng.sample(TOOLS, rng.randint(0, 2)),
            "message_count": rng.randint(1, 30),
            "prompt_chars": rng.randint(1, 8000),
            "status": "success",
            "http_status": 200,
            "finish_reason": rng.choice(("end_turn", "tool_use", "max_tokens")),
            "stream": rng.random() < 0.5,
        }
        record["ts_end"] = record["ts_start"] + rng.uniform(0.2, 60.0)
        return _apply(record, overrides)

    def records(self, count: int, **overrides: Any) -> list[dict[str, Any]]:
        return [self.record(**overrides) for _ in range(count)]

    def account(self, **overrides: Any) -> dict[str, Any]:
        """One valid account with a unique ``account_id``."""
        rng = self.rng
        number = next(self._ids)
        account: dict[str, Any] = {
            "account_id": f"acct-{self.seed}-{number:05d}",
            "created_at": EPOCH - rng.randint(0, 90 * 86_400),
            "org_id": f"org-{rng.randint(0, 9)}",
            "payment_fingerprint": f"pay-{rng.randint(0, 999):03d}",
            "email_domain": rng.choice(("example.com", "example.org", "uni.example.edu")),
            "signup_ip": f"192.0.2.{rng.randint(1, 254)}",
            "country": rng.choice(("US", "DE", "SG", "BR")),
            "program": rng.choice(PROGRAMS),
            "verified": rng.random() < 0.7,
            "attributes": {"tier": rng.choice(("free", "build", "scale"))},
        }
        return _apply(account, overrides)

    def accounts(self, count: int, **overrides: Any) -> list[dict[str, Any]]:
        return [self.account(**overrides) for _ in range(count)]


def _apply(item: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    for name, value in overrides.items():
        if value is None:
            item.pop(name, None)
        else:
            item[name] = value
    return item


def encode(
    items: list[Any], form: Form = "array", *, gzipped: bool = False
) -> tuple[bytes, dict[str, str]]:
    """``items`` as one accepted body form, with its Content-Type (and Content-Encoding)."""
    if form == "array":
        body, media = orjson.dumps(items), "application/json"
    elif form == "object":
        body, media = orjson.dumps({"records": items}), "application/json"
    else:
        body = b"".join(orjson.dumps(item) + b"\n" for item in items)
        media = "application/x-ndjson"
    headers = {"Content-Type": media}
    if gzipped:
        body = gzip.compress(body, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return body, headers


@pytest.fixture
def record_factory() -> RecordFactory:
    """A factory of valid records and accounts, seeded so failures reproduce."""
    return RecordFactory(seed=0)


def stored_records(engine: Engine) -> list[dict[str, Any]]:
    """Every record in the event log, in the order it was accepted."""
    with engine.connect() as conn:
        return [
            orjson.loads(line)
            for _, ndjson in iter_segments(conn)
            for line in ndjson.splitlines()
            if line
        ]
