"""Turning an HTTP body (or a file) into the bytes of a JSON array of items."""

from __future__ import annotations

import zlib
from typing import Literal

from detector.errors import BadBatchError, PayloadTooLargeError, UnsupportedMediaError

Media = Literal["json", "ndjson"]

_MEDIA: dict[str, Media] = {
    "application/json": "json",
    "text/json": "json",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/x-jsonlines": "ndjson",
    "application/jsonlines": "ndjson",
}


def media_of(content_type: str | None) -> Media:
    """The body form named by a Content-Type header; JSON when none is given."""
    if not content_type:
        return "json"
    essence = content_type.split(";", 1)[0].strip().lower()
    try:
        return _MEDIA[essence]
    except KeyError:
        accepted = ", ".join(sorted(_MEDIA))
        raise UnsupportedMediaError(
            f"Content-Type: {essence!r} is not accepted; use one of {accepted}"
        ) from None


def decompress(body: bytes, encoding: str | None, *, max_bytes: int) -> bytes:
    """Undo Content-Encoding, refusing to expand past ``max_bytes`` (gzip bombs).

    A gzip body may hold several members one after another (what ``cat a.gz b.gz``
    or a shipper that appends to a compressed buffer produces); every one is read.
    """
    coding = (encoding or "identity").strip().lower()
    if coding in ("identity", ""):
        return body
    if coding not in ("gzip", "x-gzip"):
        raise UnsupportedMediaError(
            f"Content-Encoding: {coding!r} is not accepted; use gzip or identity"
        )
    parts: list[bytes] = []
    size = 0
    rest = body
    while True:
        inflater = zlib.decompressobj(wbits=31)
        try:
            part = inflater.decompress(rest, max_bytes + 1 - size)
        except zlib.error as exc:
            raise BadBatchError(f"body: not valid gzip ({exc})") from None
        size += len(part)
        if size > max_bytes or inflater.unconsumed_tail:
            raise PayloadTooLargeError(
                f"body: over the limit of {max_bytes} bytes once decompressed"
            )
        if not inflater.eof:
            raise BadBatchError("body: gzip stream is truncated")
        parts.append(part)
        rest = inflater.unused_data
        if not rest:
            return parts[0] if len(parts) == 1 else b"".join(parts)


def ndjson_lines(body: bytes) -> list[bytes]:
    """The non-blank lines of an NDJSON body; a record's index is its place among them."""
    lines = []
    for line in body.split(b"\n"):
        stripped = line.strip()
        if stripped:
            lines.append(stripped)
    return lines


def as_json_array(lines: list[bytes]) -> bytes:
    return b"[" + b",".join(lines) + b"]"
