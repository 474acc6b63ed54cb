"""The ingest path shared by the API and ``detector ingest``: decode, normalise, store."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import Engine

from detector.config import Settings
from detector.ingest import storable
from detector.ingest.body import Media, decompress
from detector.ingest.decode import Decoded, ItemError, decode_batch
from detector.ingest.normalise import (
    Horizon,
    apply,
    check_storable,
    normalise_account,
    normalise_record,
)
from detector.schema import REASONING_MODES, Account, Limits, Record
from detector.schema.accounts import account_type
from detector.schema.records import record_type
from detector.store.accounts import upsert_accounts
from detector.store.db import write_transaction
from detector.store.event_log import append_prepared, prepare_batch, stored_payload
from detector.store.segment_export import export_segment

_CHOICES = {"reasoning_mode": REASONING_MODES, "status": ("success", "error")}


@dataclass(slots=True)
class BatchResult:
    """The answer to one batch, in the shape CONTRACT.md §1 gives."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[ItemError] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "errors": [
                {"index": e.index, "field": e.field, "message": e.message} for e in self.errors
            ],
        }


def validate_records(
    raw: bytes,
    media: Media,
    limits: Limits,
    *,
    fingerprint_key: bytes,
    keep_prompt_text: bool = False,
    received_at: float | None = None,
) -> Decoded[Record]:
    """Decoded, checked and normalised records of an uncompressed body; no I/O.

    ``received_at`` (epoch seconds, default now) bounds the event times accepted.
    """
    decoded = decode_batch(
        raw,
        media,
        record_type(limits),
        max_items=limits.max_records_per_batch,
        choices=_CHOICES,
    )
    horizon = _horizon(limits, received_at)

    def normalise(record: Record) -> None:
        normalise_record(record, fingerprint_key, keep_prompt_text, horizon)

    def check_and_normalise(record: Record) -> None:
        check_storable(record)
        normalise_record(record, fingerprint_key, keep_prompt_text, horizon)

    # Only a body that may hold a NUL has its records' strings looked at.
    return apply(decoded, check_and_normalise if storable.may_hold(raw) else normalise)


def validate_accounts(
    raw: bytes, media: Media, limits: Limits, *, received_at: float | None = None
) -> Decoded[Account]:
    """Decoded and checked accounts of an uncompressed body; no I/O."""
    decoded = decode_batch(raw, media, account_type(limits), max_items=limits.max_records_per_batch)
    horizon = _horizon(limits, received_at)
    checked = storable.may_hold(raw)

    def normalise(account: Account) -> None:
        if checked:
            check_storable(account)
        normalise_account(account, horizon)

    return apply(decoded, normalise)


def _horizon(limits: Limits, received_at: float | None) -> Horizon:
    when = time.time() if received_at is None else received_at
    return Horizon.at(when, limits.max_future_skew_seconds)


class Ingestor:
    """Validates and stores batches. Thread-safe: it holds no per-batch state."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.limits = Limits.from_settings(settings)
        self.max_body_bytes = settings.max_body_bytes
        self._key = settings.fingerprint_key.get_secret_value().encode()
        self._keep_prompt_text = settings.keep_prompt_text
        self._export_dir = settings.segment_export_dir

    def records(self, body: bytes, media: Media, encoding: str | None = None) -> BatchResult:
        raw = decompress(body, encoding, max_bytes=self.max_body_bytes)
        decoded = validate_records(
            raw,
            media,
            self.limits,
            fingerprint_key=self._key,
            keep_prompt_text=self._keep_prompt_text,
        )
        prepared = prepare_batch(decoded.items, rejected=len(decoded.errors))
        with write_transaction(self.engine) as conn:
            appended, is_new = append_prepared(conn, prepared)
        if self._export_dir is not None and appended.accepted:
            # After the commit: a file is never ahead of the store it copies.
            payload = stored_payload(prepared, is_new)
            if payload is not None:
                export_segment(self._export_dir, payload)
        return BatchResult(
            accepted=appended.accepted,
            duplicates=appended.duplicates,
            rejected=len(decoded.errors),
            errors=decoded.errors,
        )

    def accounts(self, body: bytes, media: Media, encoding: str | None = None) -> BatchResult:
        raw = decompress(body, encoding, max_bytes=self.max_body_bytes)
        decoded = validate_accounts(raw, media, self.limits)
        with write_transaction(self.engine) as conn:
            written = upsert_accounts(conn, accounts=decoded.items)
        return BatchResult(
            accepted=written,
            duplicates=len(decoded.items) - written,
            rejected=len(decoded.errors),
            errors=decoded.errors,
        )
