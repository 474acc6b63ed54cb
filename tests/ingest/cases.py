"""A table of bad records, each with the field it must be rejected for, and of
edge values that must be accepted. Shared by the unit and the HTTP tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from detector.schema import Limits

# Small bounds, so that "oversized" cases stay small.
LIMITS = Limits(
    max_string_chars=32,
    max_prompt_chars=64,
    max_list_items=3,
    max_attributes=2,
    max_attribute_chars=8,
)
SETTINGS = {
    "max_string_chars": LIMITS.max_string_chars,
    "max_prompt_chars": LIMITS.max_prompt_chars,
    "max_list_items": LIMITS.max_list_items,
    "max_attributes": LIMITS.max_attributes,
    "max_attribute_chars": LIMITS.max_attribute_chars,
}

REMOVE = object()
"""An override that removes the field (``None`` sends JSON null)."""


@dataclass(frozen=True)
class Bad:
    """Overrides that make a valid record invalid, the field to blame, words to expect."""

    overrides: dict[str, Any]
    field: str
    words: tuple[str, ...] = ()
    whole: Any = REMOVE  # replaces the record entirely when given

    def apply(self, good: dict[str, Any]) -> Any:
        if self.whole is not REMOVE:
            return self.whole
        item = dict(good)
        for name, value in self.overrides.items():
            if value is REMOVE:
                item.pop(name, None)
            else:
                item[name] = value
        return item


def bad(case_id: str, field: str, *words: str, whole: Any = REMOVE, **overrides: Any) -> Any:
    return pytest.param(Bad(overrides, field, words, whole), id=case_id)


BAD_RECORDS = [
    # Required fields.
    bad("missing-event_id", "event_id", "required", event_id=REMOVE),
    bad("missing-ts_start", "ts_start", "required", ts_start=REMOVE),
    bad("missing-account_id", "account_id", "required", account_id=REMOVE),
    bad("missing-request_model", "request_model", "required", request_model=REMOVE),
    bad("null-event_id", "event_id", "null", event_id=None),
    bad("empty-event_id", "event_id", "length >= 1", event_id=""),
    bad("empty-account_id", "account_id", "length >= 1", account_id=""),
    bad("event_id-129-chars", "event_id", "length <= 128", event_id="e" * 129),
    # Wrong types.
    bad("event_id-number", "event_id", "str", event_id=12345),
    bad("input_tokens-string", "input_tokens", "int", '"12"', input_tokens="12"),
    bad("output_tokens-float", "output_tokens", "int", output_tokens=1.5),
    bad("stream-string", "stream", "bool", stream="yes"),
    bad("tool_names-string", "tool_names", "array", tool_names="search"),
    bad("attributes-list", "attributes", "object", attributes=["a"]),
    bad("http_status-string", "http_status", "int", http_status="200"),
    bad("record-is-array", "record", "object", whole=[1, 2]),
    bad("record-is-string", "record", "object", whole="event"),
    # Counts.
    bad("negative-input_tokens", "input_tokens", "-1", ">= 0", input_tokens=-1),
    bad("negative-output_tokens", "output_tokens", ">= 0", output_tokens=-5),
    bad("negative-image_inputs", "image_inputs", ">= 0", image_inputs=-1),
    bad("negative-message_count", "message_count", ">= 0", message_count=-1),
    bad("tokens-past-2**53", "input_tokens", "<=", input_tokens=2**60),
    bad(
        "reasoning-over-output",
        "reasoning_output_tokens",
        "more than output_tokens",
        output_tokens=10,
        reasoning_output_tokens=11,
    ),
    bad(
        "cache-read-over-input",
        "cache_read_input_tokens",
        "more than input_tokens",
        input_tokens=10,
        cache_read_input_tokens=11,
    ),
    bad("http_status-42", "http_status", ">= 100", http_status=42),
    # Timestamps.
    bad("ts_start-words", "ts_start", "'yesterday'", "RFC 3339", ts_start="yesterday"),
    bad("ts_start-naive", "ts_start", "no UTC offset", ts_start="2026-02-23T00:00:00"),
    bad("ts_start-date-only", "ts_start", "no UTC offset", ts_start="2026-02-23"),
    bad("ts_start-milliseconds", "ts_start", "milliseconds", ts_start=1_771_804_800_000),
    bad("ts_start-zero", "ts_start", "> 0", ts_start=0),
    bad("ts_start-negative", "ts_start", "> 0", ts_start=-1),
    bad("ts_start-bool", "ts_start", "got bool", ts_start=True),
    bad("ts_start-year-2200", "ts_start", "2100", ts_start="2200-01-01T00:00:00Z"),
    bad("ts_start-numeric-string", "ts_start", "RFC 3339", ts_start="1771804800"),
    bad(
        "ts_start-year-2099",
        "ts_start",
        "2099-12-30T00:00:00Z",
        "days after it was received",
        "DETECTOR_MAX_FUTURE_SKEW_SECONDS",
        ts_start="2099-12-30T00:00:00Z",
        ts_end=REMOVE,
    ),
    bad("ts_end-year-2099", "ts_end", "DETECTOR_MAX_FUTURE_SKEW_SECONDS", ts_end=4_102_000_000),
    bad("ts_end-garbage", "ts_end", "RFC 3339", ts_end="soon"),
    bad("ts_end-naive", "ts_end", "no UTC offset", ts_end="2026-02-23T00:00:09"),
    bad(
        "ts_end-before-ts_start",
        "ts_end",
        "before ts_start",
        ts_start=1_771_804_800,
        ts_end=1_771_804_799,
    ),
    # Sizes (bounded by the small LIMITS above).
    bad("user_agent-oversized", "user_agent", "length <= 32", user_agent="u" * 33),
    bad("account_id-oversized", "account_id", "length <= 32", account_id="a" * 33),
    bad("prompt_text-oversized", "prompt_text", "length <= 64", prompt_text="p" * 65),
    bad("tool_names-too-many", "tool_names", "length <= 3", tool_names=["a", "b", "c", "d"]),
    bad("tool_name-oversized", "tool_names", "tool_names[0]", tool_names=["t" * 33]),
    bad(
        "attributes-too-many",
        "attributes",
        "length <= 2",
        attributes={"a": "1", "b": "2", "c": "3"},
    ),
    bad("attributes-value-too-long", "attributes", "length <= 8", attributes={"a": "v" * 9}),
    bad("attributes-key-too-long", "attributes", "key", attributes={"k" * 33: "v"}),
    bad("attributes-value-not-string", "attributes", "str", attributes={"a": 1}),
    # Characters no store keeps (lone surrogates: tests/ingest/test_storable.py,
    # since these cases are encoded with orjson, which cannot write one).
    bad("account_id-nul", "account_id", "U+0000", "store cannot keep", account_id="acct\x00"),
    bad("event_id-nul", "event_id", "U+0000", event_id="\x00evt"),
    bad("tool_name-nul", "tool_names", "tool_names[1]", "U+0000", tool_names=["a", "b\x00"]),
    bad("attributes-key-nul", "attributes", "(a key)", "U+0000", attributes={"k\x00": "v"}),
    bad("attributes-value-nul", "attributes", "U+0000", attributes={"k": "\x00"}),
    bad("prompt_text-nul", "prompt_text", "U+0000", prompt_text="hi\x00there"),
    # Addresses and choices.
    bad("client_ip-out-of-range", "client_ip", "'10.0.0.256'", "IPv4", client_ip="10.0.0.256"),
    bad("client_ip-hostname", "client_ip", "IPv6", client_ip="gateway.example.com"),
    bad("client_ip-with-port", "client_ip", "IPv4", client_ip="10.0.0.1:443"),
    bad("client_ip-cidr", "client_ip", "IPv4", client_ip="10.0.0.0/8"),
    bad(
        "reasoning_mode-unknown",
        "reasoning_mode",
        "'extreme'",
        "adaptive",
        reasoning_mode="extreme",
    ),
    bad("status-unknown", "status", "'ok'", "success, error", status="ok"),
    bad("operation-empty", "operation", "length >= 1", operation=""),
]

GOOD_EDGES = [
    pytest.param({"ts_start": "2026-02-23T05:30:00+05:30"}, id="rfc3339-offset"),
    pytest.param({"ts_start": "2026-02-23T00:00:00.123456Z"}, id="rfc3339-fraction"),
    pytest.param({"ts_start": 1_771_804_800.25}, id="epoch-float"),
    pytest.param({"ts_start": 1_771_804_800, "ts_end": 1_771_804_800}, id="ts_end-equals-start"),
    pytest.param({"client_ip": "2001:db8::1"}, id="ipv6"),
    pytest.param({"client_ip": "::ffff:10.0.0.1"}, id="ipv4-mapped-ipv6"),
    pytest.param({"input_tokens": 0, "cache_read_input_tokens": 0}, id="zero-tokens"),
    pytest.param({"output_tokens": 7, "reasoning_output_tokens": 7}, id="all-reasoning"),
    pytest.param({"user_agent": "é" * 32}, id="string-at-limit-non-ascii"),
    pytest.param({"attributes": {"k": "v" * 8, "k2": ""}}, id="attributes-at-limit"),
    pytest.param({"tool_names": ["a", "b", "c"]}, id="tools-at-limit"),
    pytest.param({"event_id": "e" * 128}, id="event_id-128-chars"),
    pytest.param({"status": "error", "http_status": 529}, id="status-error"),
    pytest.param({"reasoning_mode": "adaptive"}, id="reasoning-adaptive"),
    pytest.param({"operation": "embeddings", "channel": "cloud:bedrock"}, id="other-operation"),
    pytest.param({"x_vendor": {"deep": [1, 2]}, "schema_version": 3}, id="unknown-fields"),
    # An unknown field is ignored, so what it holds cannot reach the store.
    pytest.param({"x_vendor": "\x00"}, id="nul-in-unknown-field"),
    pytest.param({"user_agent": "tab\tand\u2028separator"}, id="other-control-characters"),
]
