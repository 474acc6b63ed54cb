"""Session and CSRF tokens.

A session cookie carries 32 random bytes; the database keeps only their SHA-256, so
the session can be revoked (sign-out deletes it) and a copy of the table is not a
set of usable cookies. The CSRF token of a session is an HMAC of a fixed label under
the session token: it needs no storage, differs per session, and cannot be derived
from anything a cross-site page can read.

Before sign-in there is no session, so the sign-in form is protected the same way
by a short-lived pre-session cookie (login CSRF).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SESSION_COOKIE = "detector_session"
PRESESSION_COOKIE = "detector_presession"
CSRF_FIELD = "csrf_token"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_for(token: str) -> str:
    return hmac.new(token.encode("utf-8"), b"detector-csrf-v1", hashlib.sha256).hexdigest()


def csrf_matches(token: str, submitted: str | None) -> bool:
    if not submitted:
        return False
    return hmac.compare_digest(csrf_for(token).encode(), submitted.encode())
