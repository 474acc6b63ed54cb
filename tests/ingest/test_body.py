"""Content-Type and Content-Encoding handling, without a server."""

from __future__ import annotations

import gzip
import zlib

import pytest

from detector.errors import BadBatchError, PayloadTooLargeError, UnsupportedMediaError
from detector.ingest.body import decompress, media_of, ndjson_lines

LINE = b'{"event_id":"a"}\n'


@pytest.mark.parametrize(
    ("header", "media"),
    [
        (None, "json"),
        ("", "json"),
        ("application/json", "json"),
        ("application/json; charset=utf-8", "json"),
        ("Application/X-NDJSON", "ndjson"),
        ("application/jsonl", "ndjson"),
    ],
)
def test_media_of(header: str | None, media: str) -> None:
    assert media_of(header) == media


def test_media_of_names_the_header_and_the_choices() -> None:
    with pytest.raises(UnsupportedMediaError, match=r"Content-Type: 'text/csv' .*application/json"):
        media_of("text/csv; header=present")


def test_identity_is_passed_through() -> None:
    assert decompress(LINE, None, max_bytes=1024) is LINE
    assert decompress(LINE, "identity", max_bytes=1024) is LINE


def test_every_gzip_member_is_read() -> None:
    """``cat a.gz b.gz`` is a valid gzip stream; dropping b's records would lose data."""
    second = LINE.replace(b'"a"', b'"b"')
    body = gzip.compress(LINE) + gzip.compress(second)
    assert decompress(body, "gzip", max_bytes=1024) == LINE + second


def test_gzip_members_count_together_against_the_limit() -> None:
    body = gzip.compress(LINE) + gzip.compress(LINE)
    assert decompress(body, "gzip", max_bytes=2 * len(LINE)) == 2 * LINE
    with pytest.raises(PayloadTooLargeError, match="once decompressed"):
        decompress(body, "gzip", max_bytes=2 * len(LINE) - 1)


def test_gzip_bomb_is_stopped_at_the_limit() -> None:
    bomb = gzip.compress(b" " * (32 << 20))
    with pytest.raises(PayloadTooLargeError, match="over the limit of 1024 bytes"):
        decompress(bomb, "x-gzip", max_bytes=1024)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        pytest.param(b"plain text", "not valid gzip", id="not-gzip"),
        pytest.param(gzip.compress(LINE)[:-10], "truncated", id="truncated"),
        pytest.param(gzip.compress(LINE) + b"trailing", "not valid gzip", id="trailing-bytes"),
        pytest.param(zlib.compress(LINE), "not valid gzip", id="zlib-not-gzip"),
        pytest.param(b"", "truncated", id="empty"),
    ],
)
def test_bad_gzip_is_a_bad_batch(body: bytes, match: str) -> None:
    with pytest.raises(BadBatchError, match=match) as caught:
        decompress(body, "gzip", max_bytes=1024)
    assert type(caught.value) is BadBatchError


@pytest.mark.parametrize("coding", ["br", "deflate", "compress", "zstd"])
def test_other_encodings_are_unsupported(coding: str) -> None:
    with pytest.raises(UnsupportedMediaError, match=f"Content-Encoding: '{coding}'"):
        decompress(LINE, coding, max_bytes=1024)


def test_ndjson_lines_skip_blank_lines_and_carriage_returns() -> None:
    assert ndjson_lines(b'\n{"a":1}\r\n  \n{"b":2}') == [b'{"a":1}', b'{"b":2}']
