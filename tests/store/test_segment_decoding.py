"""Segments decompressed into one reused buffer read back as the bytes they hold."""

from __future__ import annotations

import io

import polars as pl
import pytest
import zstandard

from detector.features.frames import read_records
from detector.store.event_log import decode_into, decode_payload


def segment(lines: list[bytes], *, with_size: bool = True) -> bytes:
    compressor = zstandard.ZstdCompressor(level=1, write_content_size=with_size)
    return compressor.compress(b"".join(line + b"\n" for line in lines))


def records(start: int, count: int) -> list[bytes]:
    return [
        b'{"ts_start": %d.5, "account_id": "acct-%d", "input_tokens": %d}' % (i, i % 7, i)
        for i in range(start, start + count)
    ]


def test_chunks_of_any_size_read_back_whole_from_one_buffer() -> None:
    buffer = io.BytesIO()
    # Large, then larger (the buffer grows), then small (it shrinks), then mid-sized.
    for sizes in ([300, 200], [2000, 1500, 900], [3], [40, 60]):
        payloads, expected, start = [], b"", 0
        for size in sizes:
            payloads.append(segment(records(start, size)))
            expected += decode_payload(payloads[-1])
            start += size
        got = decode_into(payloads, buffer)
        assert got is buffer and got.tell() == 0
        assert got.getvalue() == expected
        frame = read_records(got)
        assert frame.height == sum(sizes)
        assert frame["input_tokens"].to_list() == list(range(start))


def test_a_buffer_left_longer_by_an_earlier_chunk_holds_only_the_new_one() -> None:
    buffer = io.BytesIO(b"left over from an earlier, larger chunk\n" * 100)
    payloads = [segment(records(0, 5)), segment(records(5, 3))]
    got = decode_into(payloads, buffer)
    assert got.getvalue() == b"".join(decode_payload(p) for p in payloads)
    assert read_records(got)["account_id"].to_list() == [f"acct-{i % 7}" for i in range(8)]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (segment(records(0, 50))[:-40], "bytes short"),
        (segment(records(0, 50), with_size=False), "without its content size"),
    ],
    ids=["truncated", "no-size"],
)
def test_a_damaged_payload_is_an_error_not_a_short_chunk(payload: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_into([payload], io.BytesIO())


def test_the_parsed_frame_does_not_hold_on_to_the_buffer() -> None:
    buffer = io.BytesIO()
    first = read_records(decode_into([segment(records(0, 1000))], buffer))
    # Reusing the buffer for the next chunk leaves the frame parsed from it as it was.
    decode_into([segment(records(5000, 10))], buffer)
    assert first["input_tokens"].to_list() == list(range(1000))
    assert isinstance(first, pl.DataFrame)
