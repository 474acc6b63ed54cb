"""The canonical record and account of CONTRACT.md §1–2, as msgspec structs."""

from detector.schema.accounts import Account
from detector.schema.limits import Limits
from detector.schema.records import REASONING_MODES, Record

__all__ = ["REASONING_MODES", "Account", "Limits", "Record"]
