"""Sign-up and billing metadata of one account, as CONTRACT.md §2 defines it."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

import msgspec

from detector.schema.limits import Limits
from detector.schema.records import EpochOrText, Required

Country = Annotated[str, msgspec.Meta(pattern="^[A-Z]{2}$")]


class Account(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """An account, upserted by ``account_id``."""

    account_id: Required
    created_at: EpochOrText
    org_id: str | None = None
    payment_fingerprint: str | None = None
    email_domain: str | None = None
    signup_ip: str | None = None
    country: Country | None = None
    program: str | None = None
    verified: bool | None = None
    attributes: dict[str, str] | None = None


@lru_cache(maxsize=8)
def account_type(limits: Limits) -> type[Account]:
    """An ``Account`` subclass that enforces ``limits`` while decoding."""
    text = Annotated[str, msgspec.Meta(max_length=limits.max_string_chars)]
    required = Annotated[str, msgspec.Meta(min_length=1, max_length=limits.max_string_chars)]
    value = Annotated[str, msgspec.Meta(max_length=limits.max_attribute_chars)]
    attributes = Annotated[
        dict[text, value],
        msgspec.Meta(max_length=limits.max_attributes),
    ]
    fields: list[tuple[str, Any, Any]] = [("account_id", required, msgspec.NODEFAULT)]
    fields += [
        (name, text | None, None)
        for name in ("org_id", "payment_fingerprint", "email_domain", "signup_ip", "program")
    ]
    fields.append(("attributes", attributes | None, None))
    return msgspec.defstruct(  # type: ignore[return-value]
        "Account", fields, bases=(Account,), kw_only=True, omit_defaults=True, gc=False
    )
