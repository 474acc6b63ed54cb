"""Checks msgspec cannot express, and normal forms: times to epoch seconds,
fingerprints derived from ``prompt_text``, the text itself dropped unless kept."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TypeVar

from detector.features.capability import content_flags_from_text
from detector.fingerprints import prompt_fingerprint, template_fingerprint
from detector.ingest import storable
from detector.ingest.decode import Decoded, ItemError
from detector.schema import Account, Record

T = TypeVar("T", Record, Account)

# 2100-01-01T00:00:00Z. A later epoch value is almost always milliseconds sent as seconds.
_LATEST_EPOCH = 4_102_444_800.0


class FieldError(ValueError):
    """A field that breaks a rule; ``rule`` names it for the metric of rejections."""

    def __init__(self, field: str, message: str, rule: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule


FUTURE = "future"
"""The rule's name in ``ItemError.rule`` and the rejection metric."""


@dataclass(frozen=True, slots=True)
class Horizon:
    """The latest event time a batch may carry: when it was received plus the skew
    allowed between the sender's clock and ours.

    One record dated years ahead would otherwise move the pipeline's watermark there,
    and every real record after it would count as late.
    """

    received_at: float
    skew: float
    latest: float

    @classmethod
    def at(cls, received_at: float, skew: float) -> Horizon:
        return cls(received_at, skew, received_at + skew)

    def error(self, field: str, value: float) -> FieldError:
        shown = datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")
        return FieldError(
            field,
            f"{field}: {shown.replace('+00:00', 'Z')} is {_duration(value - self.received_at)}"
            f" after it was received; at most {self.skew:g} s ahead is accepted"
            " (DETECTOR_MAX_FUTURE_SKEW_SECONDS)",
            FUTURE,
        )


_NO_HORIZON = Horizon(0.0, math.inf, math.inf)


def _duration(seconds: float) -> str:
    """How far ahead, in the unit an operator reads at a glance.

    >>> _duration(90), _duration(3 * 3600), _duration(27_000 * 86_400)
    ('90 s', '3 hours', '27,000 days')
    """
    if seconds >= 2 * 86_400:
        return f"{seconds / 86_400:,.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:,.0f} hours"
    return f"{seconds:,.0f} s"


def check_storable(item: Record | Account) -> None:
    """Refuse an item with a NUL or a lone surrogate in any string (see ``storable``)."""
    found = storable.find_in_struct(item)
    if found is not None:
        raise FieldError(found[0], found[1], storable.RULE)


def to_epoch(value: float | str, field: str) -> float:
    """Epoch seconds from epoch seconds or an RFC 3339 string with an offset.

    >>> to_epoch("2026-02-23T00:00:00Z", "ts_start")
    1771804800.0
    """
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise FieldError(
                field, f"{field}: {value[:60]!r} is not an RFC 3339 time or epoch seconds"
            ) from None
        if parsed.tzinfo is None:
            raise FieldError(field, f"{field}: {value[:60]!r} has no UTC offset (add Z or ±hh:mm)")
        value = parsed.timestamp()
    if not 0 < value < _LATEST_EPOCH:
        raise FieldError(
            field, f"{field}: {value} is not epoch seconds between 1970 and 2100 (milliseconds?)"
        )
    return float(value)


# Dotted-quad IPv4, octets 0-255 without leading zeros: most addresses take this
# path, which is several times cheaper than ipaddress.ip_address.
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


@lru_cache(maxsize=65_536)
def _is_ip(text: str) -> bool:
    if _IPV4.fullmatch(text):
        return True
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def check_ip(value: str, field: str) -> None:
    if not _is_ip(value):
        raise FieldError(field, f"{field}: {value[:60]!r} is not an IPv4 or IPv6 address")


def normalise_record(
    record: Record, key: bytes, keep_prompt_text: bool, horizon: Horizon = _NO_HORIZON
) -> None:
    """Validate what types cannot and bring ``record`` to its stored form, in place.

    Times later than ``horizon`` allows are refused; without one, any time to 2100 is
    accepted (files checked away from the service, such as ``synth``'s conformance).
    """
    start = record.ts_start
    # Epoch floats in range are the common case; skip the call for them.
    if not (type(start) is float and 0 < start < _LATEST_EPOCH):
        record.ts_start = start = to_epoch(start, "ts_start")
    if start > horizon.latest:
        raise horizon.error("ts_start", start)
    end = record.ts_end
    if end is not None:
        if not (type(end) is float and 0 < end < _LATEST_EPOCH):
            record.ts_end = end = to_epoch(end, "ts_end")
        if end < start:
            raise FieldError("ts_end", f"ts_end: {end} is before ts_start {start}")
        if end > horizon.latest:
            raise horizon.error("ts_end", end)
    ip = record.client_ip
    if ip is not None and not _is_ip(ip):
        check_ip(ip, "client_ip")
    # Parts within wholes, checked inline: this runs for every record of every batch.
    reasoning, output = record.reasoning_output_tokens, record.output_tokens
    if reasoning is not None and output is not None and reasoning > output:
        _check_part("reasoning_output_tokens", reasoning, "output_tokens", output)
    cached, given_input = record.cache_read_input_tokens, record.input_tokens
    if cached is not None and given_input is not None and cached > given_input:
        _check_part("cache_read_input_tokens", cached, "input_tokens", given_input)
    text = record.prompt_text
    if text is not None:
        if record.prompt_fingerprint is None:
            record.prompt_fingerprint = prompt_fingerprint(text, key)
        if record.template_fingerprint is None:
            record.template_fingerprint = template_fingerprint(text, key)
        if record.prompt_chars is None:
            record.prompt_chars = len(text)
        # Capability flags come from the text now, because the text itself is
        # usually not kept; a sender's own flags stand and are added to.
        derived = content_flags_from_text(text)
        if derived:
            given = record.content_flags or []
            record.content_flags = given + [flag for flag in derived if flag not in given]
        if not keep_prompt_text:
            record.prompt_text = None


def _check_part(part: str, part_value: int | None, whole: str, whole_value: int | None) -> None:
    if part_value is not None and whole_value is not None and part_value > whole_value:
        raise FieldError(part, f"{part}: {part_value} is more than {whole} {whole_value}")


def normalise_account(account: Account, horizon: Horizon = _NO_HORIZON) -> None:
    account.created_at = created = to_epoch(account.created_at, "created_at")
    if created > horizon.latest:
        raise horizon.error("created_at", created)
    if account.signup_ip is not None:
        check_ip(account.signup_ip, "signup_ip")


def apply(decoded: Decoded[T], step: Callable[[T], None]) -> Decoded[T]:
    """Run ``step`` on every item, moving the ones it rejects to the errors."""
    errors: list[ItemError] = []
    bad: set[int] = set()
    # This loop runs for every record of every batch: nothing per item beyond the
    # call unless the item is rejected.
    for index, item in enumerate(decoded.items):
        try:
            step(item)
        except FieldError as exc:
            bad.add(index)
            errors.append(ItemError(decoded.positions[index], exc.field, str(exc), exc.rule))
    if errors:
        decoded.reject([index not in bad for index in range(len(decoded.items))], errors)
    return decoded
