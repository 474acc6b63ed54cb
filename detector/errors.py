"""Domain errors. The core raises these; only the API layer maps them to HTTP.

DetectorError
├── BadBatchError           the body as a whole cannot be read (400)
│   ├── UnsupportedMediaError   content type or encoding not accepted (415)
│   └── PayloadTooLargeError    body or batch over a configured limit (413)
├── StoreUnavailableError   the database cannot be reached or is locked (503)
├── NotFoundError           a named case or reviewer does not exist (404)
└── InvalidRequestError     a well-formed request the core refuses; names field and rule (422)
"""

from __future__ import annotations


class DetectorError(Exception):
    """Base of every error the detector raises on purpose."""


class BadBatchError(DetectorError):
    """The body cannot be read as a batch at all (not one bad record: a bad body)."""


class UnsupportedMediaError(BadBatchError):
    """Content-Type or Content-Encoding is not one the endpoint accepts."""


class PayloadTooLargeError(BadBatchError):
    """The body, once decompressed, or its record count is over a configured limit."""


class StoreUnavailableError(DetectorError):
    """The store did not take the batch; nothing of it was kept, a retry is safe."""


class NotFoundError(DetectorError):
    """A case, reviewer or other named thing does not exist."""


class InvalidRequestError(DetectorError):
    """A request that parses but breaks a rule, e.g. a snooze date in the past."""
