"""Configurable bounds on what one record or account may carry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from detector.config import Settings


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds applied while decoding; frozen so decoders built from it can be cached."""

    max_string_chars: int = 1024
    max_prompt_chars: int = 65_536
    max_list_items: int = 256
    max_attributes: int = 64
    max_attribute_chars: int = 1024
    max_records_per_batch: int = 50_000
    # How far past the time a batch is received its event times may lie.
    max_future_skew_seconds: float = 3600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_string_chars=settings.max_string_chars,
            max_prompt_chars=settings.max_prompt_chars,
            max_list_items=settings.max_list_items,
            max_attributes=settings.max_attributes,
            max_attribute_chars=settings.max_attribute_chars,
            max_records_per_batch=settings.max_records_per_batch,
            max_future_skew_seconds=settings.max_future_skew_seconds,
        )
