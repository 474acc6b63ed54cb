"""The ingest path shared by the API and ``detector ingest``: decode, normalise, store."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import Engine

from detector.config import Settings
from detector.ingest.body import Media, decompress
from detector.ingest.decode import ItemError, decode_batch
from detector.ingest.normalise import apply, normalise_account, normalise_record
from detector.schema import REASONING_MODES, Limits
from detector.schema.accounts import account_type
from detector.schema.records import record_type
from detector.store.accounts import upsert_accounts
from detector.store.db import write_transaction
from detector.store.event_log import append_records

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


class Ingestor:
    """Validates and stores batches. Thread-safe: it holds no per-batch state."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.limits = Limits.from_settings(settings)
        self.max_body_bytes = settings.max_body_bytes
        self._normalise = partial(
            normalise_record,
            key=settings.fingerprint_key.get_secret_value().encode(),
            keep_prompt_text=settings.keep_prompt_text,
        )

    def records(self, body: bytes, media: Media, encoding: str | None = None) -> BatchResult:
        raw = decompress(body, encoding, max_bytes=self.max_body_bytes)
        decoded = decode_batch(
            raw,
            media,
            record_type(self.limits),
            max_items=self.limits.max_records_per_batch,
            choices=_CHOICES,
        )
        apply(decoded, self._normalise)
        with write_transaction(self.engine) as conn:
            appended, _ = append_records(conn, records=decoded.items, rejected=len(decoded.errors))
        return BatchResult(
            accepted=appended.accepted,
            duplicates=appended.duplicates,
            rejected=len(decoded.errors),
            errors=decoded.errors,
        )

    def accounts(self, body: bytes, media: Media, encoding: str | None = None) -> BatchResult:
        raw = decompress(body, encoding, max_bytes=self.max_body_bytes)
        decoded = decode_batch(
            raw,
            media,
            account_type(self.limits),
            max_items=self.limits.max_records_per_batch,
        )
        apply(decoded, normalise_account)
        with write_transaction(self.engine) as conn:
            written = upsert_accounts(conn, accounts=decoded.items)
        return BatchResult(
            accepted=written,
            duplicates=len(decoded.items) - written,
            rejected=len(decoded.errors),
            errors=decoded.errors,
        )
