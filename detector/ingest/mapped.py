"""Records mapped from other formats (OTLP, LiteLLM) onto the one ingest path.

A mapper turns each foreign item into a canonical record as a plain dict, or into a
``MapError``; the dicts then go through ``Ingestor.records`` exactly as a
``POST /v1/records`` body would, so validation, limits, fingerprints, deduplication
and durability are the same code for every format.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field
from typing import Any

from detector.config import Settings
from detector.fingerprints import prompt_fingerprint, system_fingerprint, template_fingerprint
from detector.ingest.decode import ItemError
from detector.ingest.identity import sender_label
from detector.ingest.messages import Transcript
from detector.ingest.service import BatchResult, Ingestor
from detector.ingest.storable import dumps_lenient

# Free-form values copied into ``attributes`` are cut here, well under the default
# ``max_attribute_chars`` (1024), so that one long id never costs the record.
ATTRIBUTE_CHARS = 256


@dataclass(frozen=True, slots=True)
class MapContext:
    """What a mapper needs from the settings and the request: the fingerprint key, the
    prompt bound, and whether and under which sender label a record that names no
    caller is kept (``identity``)."""

    key: bytes
    max_prompt_chars: int
    identity_fallback: bool = True
    sender: str = "unknown-sender"

    @classmethod
    def from_settings(cls, settings: Settings, token: str | None = None) -> MapContext:
        key = settings.fingerprint_key.get_secret_value().encode()
        return cls(
            key=key,
            max_prompt_chars=settings.max_prompt_chars,
            identity_fallback=settings.identity_fallback,
            sender=sender_label(token, key) if token else "unknown-sender",
        )


# What a mapper's reading of an unexpected shape raises (a number where a list was
# expected, a list where a string was): the item's error, never the batch's. Mappers
# check the shapes they know; this is the net under them, for senders' JSON.
MALFORMED = (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError)
TOO_DEEP = "body: JSON nested deeper than the parser's limit"

log = logging.getLogger(__name__)


def malformed(index: int, what: str, exc: BaseException) -> ItemError:
    """The error of an item whose shape broke a mapper (``MALFORMED``)."""
    log.warning("%s %d: unexpected shape (%s: %s)", what, index, type(exc).__name__, exc)
    rule = (
        "nested too deeply"
        if isinstance(exc, RecursionError)
        else "has a value of an unexpected type"
    )
    return ItemError(index, what, f"{what}: {rule} ({type(exc).__name__})")


class MapError(ValueError):
    """A foreign item that cannot become a record; ``field`` names the record field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(slots=True)
class Mapped:
    """Records mapped from a batch, each with the index of the item it came from."""

    records: list[dict[str, Any]] = field(default_factory=list)
    sources: list[int] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)

    def add(self, source: int, record: dict[str, Any]) -> None:
        self.records.append(record)
        self.sources.append(source)


def add_transcript(record: dict[str, Any], transcript: Transcript, ctx: MapContext) -> None:
    """Counts and keyed fingerprints of a transcript, set where the record lacks them.

    The fingerprints are taken here rather than left to ``normalise`` so that a last
    user turn longer than ``max_prompt_chars`` still yields them; the text itself is
    passed on only when it fits, and ``normalise`` keeps it only if configured to.
    """
    if transcript.message_count:
        record.setdefault("message_count", transcript.message_count)
    if transcript.image_inputs:
        record.setdefault("image_inputs", transcript.image_inputs)
    text = transcript.last_user_text
    if text is not None:
        record.setdefault("prompt_fingerprint", prompt_fingerprint(text, ctx.key))
        record.setdefault("template_fingerprint", template_fingerprint(text, ctx.key))
        record.setdefault("prompt_chars", len(text))
        if len(text) <= ctx.max_prompt_chars:
            record.setdefault("prompt_text", text)
    if transcript.system_text is not None:
        record.setdefault("system_fingerprint", system_fingerprint(transcript.system_text, ctx.key))


def is_ip(value: Any) -> bool:
    """Whether ``value`` is an IPv4 or IPv6 address (gateways also log host names)."""
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


# The largest count a record field holds (a signed 64-bit integer in the store).
MAX_COUNT = 2**63 - 1
# Digits of MAX_COUNT: a longer digit string is not converted at all (int() of a
# 5,000-digit string is refused by Python, and slow well before that).
_COUNT_DIGITS = len(str(MAX_COUNT))


def as_count(value: Any) -> Any:
    """A token count as an int where it is one, written as an integral float or a
    string of ASCII digits; anything else is returned as it came, for validation to
    refuse by name (``"²"`` passes ``str.isdigit``; ``1e300`` is integral).

    >>> as_count(12.0), as_count(" 7 "), as_count("²"), as_count(1e300)
    (12, 7, '²', 1e+300)
    """
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_COUNT:
        return int(value)
    if isinstance(value, str):
        digits = value.strip()
        if digits.isascii() and digits.isdigit() and len(digits) <= _COUNT_DIGITS:
            return int(digits)
    return value


def include_cached_input(record: dict[str, Any]) -> None:
    """Make ``input_tokens`` include the cache reads when a sender reported them apart.

    The contract (and the GenAI conventions) count cached tokens inside the input;
    Anthropic's usage, and instrumentations that copy it, report them beside it. A
    cached part larger than the whole can only mean the latter, so the whole is
    rebuilt rather than the record refused.
    """
    total, cached = record.get("input_tokens"), record.get("cache_read_input_tokens")
    if isinstance(total, int) and isinstance(cached, int) and cached > total:
        record["input_tokens"] = total + cached


def store_mapped(ingestor: Ingestor, mapped: Mapped) -> BatchResult:
    """Validate and store the mapped records; errors carry the index of the source item."""
    result = BatchResult()
    if mapped.records:
        # A lone surrogate a sender's JSON carried is written out escaped, so that
        # validation refuses its record alone, like any other character it refuses.
        result = ingestor.records(dumps_lenient(mapped.records), "json")
        for error in result.errors:
            error_at = mapped.sources[error.index]
            mapped.errors.append(ItemError(error_at, error.field, error.message))
    result.errors = sorted(mapped.errors, key=lambda e: e.index)
    result.rejected = len(result.errors)
    return result
