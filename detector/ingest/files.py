"""Reading record files for ``detector ingest``: NDJSON streamed, JSON read whole, gzip either.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "batch.json"
>>> _ = path.write_text('{"records": [{"a": 1}, {"a": 2}, {"a": 3}]}')
>>> [(start, body) for start, body in file_batches(path, 2)]
[(0, b'{"a":1}\\n{"a":2}'), (2, b'{"a":3}')]
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from detector.errors import BadBatchError
from detector.ingest.storable import dumps_lenient, loads_lenient

_GZIP_MAGIC = b"\x1f\x8b"


def _open(path: Path) -> IO[bytes]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise BadBatchError(f"{path}: cannot be read ({exc.strerror})") from None
    if handle.read(2) == _GZIP_MAGIC:
        handle.close()
        return cast(IO[bytes], gzip.open(path, "rb"))
    handle.seek(0)
    return handle


def file_batches(path: Path, size: int) -> Iterator[tuple[int, bytes]]:
    """(index of the first record, NDJSON bytes) for every ``size`` records of ``path``.

    A file whose first line is a whole JSON value is NDJSON and is streamed; any
    other file is one JSON document: an array, ``{"records": [...]}`` or one record.
    """
    with _open(path) as handle:
        first = handle.readline()
        while first and not first.strip():
            first = handle.readline()
        if _is_ndjson_line(first):
            yield from _line_batches(first, handle, size)
            return
        try:
            document = loads_lenient(first + handle.read())
        except ValueError as exc:
            raise BadBatchError(f"{path}: not NDJSON and not valid JSON ({exc})") from None
    items = _items_of(document)
    for start in range(0, len(items), size):
        yield start, b"\n".join(dumps_lenient(item) for item in items[start : start + size])


def _is_ndjson_line(line: bytes) -> bool:
    stripped = line.strip()
    if not stripped.startswith(b"{"):
        return False
    try:
        value = loads_lenient(stripped)
    except ValueError:
        return False
    # A first line that is itself {"records": [...]} is a one-line JSON document.
    return isinstance(value, dict) and not isinstance(value.get("records"), list)


def _items_of(document: object) -> list[object]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and isinstance(document.get("records"), list):
        records: list[object] = document["records"]
        return records
    return [document]


def _line_batches(first: bytes, handle: IO[bytes], size: int) -> Iterator[tuple[int, bytes]]:
    lines = [first]
    start = 0
    for line in handle:
        if not line.strip():
            continue
        lines.append(line)
        if len(lines) == size:
            yield start, b"".join(lines)
            start += size
            lines = []
    if lines:
        yield start, b"".join(lines)
