"""A chunk of stored segments that a step failed on, taken apart to set aside what
fails and keep the rest: bisected by segment, then within a failing segment by record.

Pure: it reads the payloads it is given and calls ``check`` (the engine's per-record
work, ``Engine.probe``), and writes nothing. Every part is tried as it would be
taken in: decompressed, parsed against the record schema, narrowed, checked. A part
that passes is kept whole; one that fails is halved until what fails is one record
(or one segment whose payload cannot be decompressed at all). A chunk with one bad
record in ``n`` costs about ``2 log2 n`` tries; one that passes whole costs one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import orjson
import polars as pl

from detector.features.frames import narrow, read_records
from detector.store.event_log import decode_payload
from detector.store.quarantine import Quarantined


class _Failed(Exception):
    def __init__(self, stage: str, error: BaseException) -> None:
        super().__init__(f"{stage}: {type(error).__name__}: {error}")
        self.stage = stage
        self.error = f"{type(error).__name__}: {error}"


@dataclass
class Screened:
    """What a chunk leaves once screened: the records that passed, in segment order,
    how many each segment gave (a segment wholly set aside gave 0), and what was set
    aside."""

    records: list[pl.DataFrame] = field(default_factory=list)
    taken: dict[int, int] = field(default_factory=dict)
    quarantined: list[Quarantined] = field(default_factory=list)


def _lines(ndjson: bytes) -> list[bytes]:
    return [line for line in ndjson.split(b"\n") if line.strip()]


def _try(lines: Sequence[bytes], check: Callable[[pl.DataFrame], object]) -> pl.DataFrame:
    try:
        records = narrow(read_records(b"\n".join(lines)))
    except Exception as error:
        raise _Failed("parse", error) from error
    try:
        check(records)
    except Exception as error:
        raise _Failed("prepare", error) from error
    return records


def _event_id(line: bytes) -> str | None:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    found = value.get("event_id") if isinstance(value, dict) else None
    return found[:128] if isinstance(found, str) else None


def screen(
    rows: Sequence[tuple[int, int, bytes]], check: Callable[[pl.DataFrame], object]
) -> Screened:
    """Screen the segments ``rows`` (id, record count, compressed payload)."""
    out = Screened()
    decoded: dict[int, bytes | _Failed] = {}

    def lines_of(segment: int, payload: bytes) -> list[bytes]:
        if segment not in decoded:
            try:
                decoded[segment] = decode_payload(payload)
            except Exception as error:
                decoded[segment] = _Failed("decode", error)
        got = decoded[segment]
        if isinstance(got, _Failed):
            raise got
        return _lines(got)

    def segments(part: Sequence[tuple[int, int, bytes]]) -> None:
        try:
            lines = [(s, line) for s, _, p in part for line in lines_of(s, p)]
            frame = _try([line for _, line in lines], check)
        except _Failed as failed:
            if len(part) > 1:
                half = len(part) // 2
                segments(part[:half])
                segments(part[half:])
                return
            (segment, count, _) = part[0]
            if failed.stage == "decode":
                out.taken[segment] = 0
                out.quarantined.append(
                    Quarantined(segment, None, count, failed.stage, failed.error)
                )
                return
            records(segment, list(enumerate(lines_of(segment, part[0][2]))))
            return
        out.records.append(frame)
        for segment, _ in lines:
            out.taken[segment] = out.taken.get(segment, 0) + 1
        for segment, _, _ in part:
            out.taken.setdefault(segment, 0)

    def records(segment: int, part: list[tuple[int, bytes]]) -> None:
        try:
            frame = _try([line for _, line in part], check)
        except _Failed as failed:
            if len(part) > 1:
                half = len(part) // 2
                records(segment, part[:half])
                records(segment, part[half:])
                return
            index, line = part[0]
            out.taken.setdefault(segment, 0)
            out.quarantined.append(
                Quarantined(segment, index, 1, failed.stage, failed.error, _event_id(line), line)
            )
            return
        out.records.append(frame)
        out.taken[segment] = out.taken.get(segment, 0) + len(part)

    segments(rows)
    return out
