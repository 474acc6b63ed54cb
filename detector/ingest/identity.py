"""Who a record belongs to when the sender named no one: the explicit fallback account.

Instrumentations that record no caller (OpenAI's official one, agent frameworks) and a
LiteLLM proxy without virtual keys still send real calls. Rather than refuse them, each
is stored under an account that says what it is: ``unattributed:<source>:<sender>``,
where ``source`` is the sending service (OTel ``service.name``, or ``litellm``) and
``sender`` a label of the API token that posted it (a keyed hash, never the token),
and the record's ``attributes`` carry ``detector.identity: fallback``. One service's
calls then form one account, which detection can still judge as a whole;
``DETECTOR_IDENTITY_FALLBACK=false`` refuses such records instead.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

FALLBACK_PREFIX = "unattributed:"
MARKER = "detector.identity"
SOURCE = "detector.account_from"


def sender_label(token: str, key: bytes) -> str:
    """A short, stable label of an API token: the same token, the same label."""
    digest = hmac.new(key, token.encode(), hashlib.sha256).hexdigest()
    return f"key-{digest[:10]}"


def mark_fallback(record: dict[str, Any]) -> None:
    """Say on the record that its account is the fallback (where ``attributes`` is a map;
    a sender's malformed one is left for validation to refuse)."""
    attributes = record.setdefault("attributes", {})
    if isinstance(attributes, dict):
        attributes[MARKER] = "fallback"


def fallback_account(source: str, sender: str) -> str:
    """The account of records that name no caller, per sending service and token."""
    return f"{FALLBACK_PREFIX}{source[:200]}:{sender}"
