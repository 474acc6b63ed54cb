"""Webhook signatures: HMAC-SHA256 over the timestamp and the body.

The header reads ``X-Detector-Signature: t=<unix seconds>,v1=<hex digest>`` where the
digest is HMAC-SHA256(secret, ``f"{t}."`` + body). Binding the timestamp into the MAC
lets a receiver refuse replays older than its tolerance; the scheme is Stripe's, so
receivers may already have code for it.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Detector-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, now: float, tolerance: float = 300) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
        given = fields["v1"]
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)
