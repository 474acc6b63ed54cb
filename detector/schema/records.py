"""One model call, as CONTRACT.md §1 defines it.

``Record`` is the static shape (used by ``synth`` and for typing). Decoding uses
``record_type(limits)``, a subclass whose string, list and mapping fields carry the
configured length bounds, so msgspec checks them in C while it parses.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Literal

import msgspec

from detector.schema.limits import Limits

ReasoningMode = Literal["none", "enabled", "adaptive", "low", "medium", "high"]
REASONING_MODES: tuple[str, ...] = ("none", "enabled", "adaptive", "low", "medium", "high")
Status = Literal["success", "error"]

# Epoch seconds, or an RFC 3339 string that normalise() parses. 2**53 tokens is
# far past any real call and keeps every count exact in a float64 column.
EpochOrText = Annotated[float, msgspec.Meta(gt=0)] | str
Count = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
EventId = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Required = Annotated[str, msgspec.Meta(min_length=1)]
HttpStatus = Annotated[int, msgspec.Meta(ge=100, le=599)]


# gc=False: a record holds only strings, numbers and lists or dicts of them, so it
# can never be part of a reference cycle; leaving it untracked spares the cyclic
# collector from scanning every record of every batch (msgspec's "Structs and GC").
class Record(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """A canonical log record. After ``normalise`` the timestamps are epoch seconds."""

    event_id: EventId
    ts_start: EpochOrText
    account_id: Required
    request_model: Required
    ts_end: EpochOrText | None = None
    api_key_id: str | None = None
    org_id: str | None = None
    end_user_id: str | None = None
    client_ip: str | None = None
    user_agent: str | None = None
    provider: str | None = None
    operation: str = "chat"
    channel: str | None = None
    input_tokens: Count | None = None
    output_tokens: Count | None = None
    reasoning_output_tokens: Count | None = None
    cache_read_input_tokens: Count | None = None
    reasoning_mode: ReasoningMode | None = None
    tool_names: list[str] | None = None
    response_tool_call_names: list[str] | None = None
    image_inputs: Count | None = None
    message_count: Count | None = None
    system_fingerprint: str | None = None
    prompt_fingerprint: str | None = None
    template_fingerprint: str | None = None
    prompt_chars: Count | None = None
    prompt_text: str | None = None
    content_flags: list[str] | None = None
    status: Status = "success"
    http_status: HttpStatus | None = None
    finish_reason: str | None = None
    stream: bool | None = None
    attributes: dict[str, str] | None = None


_PLAIN_STRINGS = (
    "api_key_id",
    "org_id",
    "end_user_id",
    "client_ip",
    "user_agent",
    "provider",
    "channel",
    "system_fingerprint",
    "prompt_fingerprint",
    "template_fingerprint",
    "finish_reason",
)
_LISTS = ("tool_names", "response_tool_call_names", "content_flags")


def bounded_fields(limits: Limits) -> list[tuple[str, Any, Any]]:
    """The fields whose bounds come from configuration, with their bounded types."""
    text = Annotated[str, msgspec.Meta(max_length=limits.max_string_chars)]
    required = Annotated[str, msgspec.Meta(min_length=1, max_length=limits.max_string_chars)]
    items = Annotated[list[text], msgspec.Meta(max_length=limits.max_list_items)]
    value = Annotated[str, msgspec.Meta(max_length=limits.max_attribute_chars)]
    attributes = Annotated[
        dict[text, value],
        msgspec.Meta(max_length=limits.max_attributes),
    ]
    prompt = Annotated[str, msgspec.Meta(max_length=limits.max_prompt_chars)]
    fields: list[tuple[str, Any, Any]] = [
        ("account_id", required, msgspec.NODEFAULT),
        ("request_model", required, msgspec.NODEFAULT),
        ("operation", Annotated[str, msgspec.Meta(min_length=1, max_length=64)], "chat"),
    ]
    fields += [(name, text | None, None) for name in _PLAIN_STRINGS]
    fields += [(name, items | None, None) for name in _LISTS]
    fields += [("prompt_text", prompt | None, None), ("attributes", attributes | None, None)]
    return fields


@lru_cache(maxsize=8)
def record_type(limits: Limits) -> type[Record]:
    """A ``Record`` subclass that enforces ``limits`` while decoding."""
    return msgspec.defstruct(  # type: ignore[return-value]
        "Record",
        bounded_fields(limits),
        bases=(Record,),
        kw_only=True,
        omit_defaults=True,
        gc=False,
    )
