"""Checks that generated rows are canonical, through the detector's own decoder.

Used on a sample of every day while generating (cheap), and on every row in tests.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import pyarrow as pa

from detector.ingest.decode import decode_batch
from detector.ingest.normalise import FieldError, normalise_account, normalise_record
from detector.schema import Limits
from detector.schema.accounts import account_type
from detector.schema.records import record_type

_LIMITS = Limits()
_KEY = b"synth-conformance"


class NotCanonicalError(ValueError):
    """A generated row that the detector would reject."""


def _rows(table: pa.Table) -> list[dict[str, object]]:
    """Rows with null fields left out, as a sender following the contract writes them."""
    return [{k: v for k, v in row.items() if v is not None} for row in table.to_pylist()]


def check_records(table: pa.Table) -> int:
    """Decode and normalise every row of ``table`` as ``POST /v1/records`` would."""
    return _check(_rows(table), record_type(_LIMITS), "record")


def check_accounts(table: pa.Table) -> int:
    return _check(_rows(table), account_type(_LIMITS), "account")


def _check(rows: Sequence[dict[str, object]], item_type: type[msgspec.Struct], what: str) -> int:
    body = msgspec.json.encode(rows)
    decoded = decode_batch(body, "json", item_type, max_items=max(1, len(rows)))
    if decoded.errors:
        first = decoded.errors[0]
        raise NotCanonicalError(f"{what} {first.index}: {first.message}")
    for index, item in enumerate(decoded.items):
        try:
            if what == "record":
                normalise_record(item, _KEY, keep_prompt_text=False)  # type: ignore[arg-type]
            else:
                normalise_account(item)  # type: ignore[arg-type]
        except FieldError as exc:
            raise NotCanonicalError(f"{what} {index}: {exc}") from None
    return len(decoded.items)
