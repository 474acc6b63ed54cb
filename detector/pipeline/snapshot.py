"""The checkpoint format of the pipeline's state: one versioned envelope per part.

An envelope is its sections, one after another, then a JSON header describing them,
then the header's length and a magic number::

    section bytes ... | header (JSON, UTF-8) | header length (u32, little-endian) | b"DSN1"

The header names the part, the format version, the versions of the libraries the
part was written under, small values (JSON), and each section: its name, its kind
and its size, and for a frame the fingerprint of its schema. Sections are

- ``ipc``: a polars frame as Arrow IPC (zstd-compressed buffers), readable by any
  Arrow library, so a checkpoint can be inspected without this code;
- ``pickle``: a zstd-compressed pickle, for the river scorer and small Python objects;
- ``bytes``: another envelope (the engine's holds its parts').

A frame's schema is checked against the one the code expects, and the versions
against this process's: a mismatch raises ``StaleState``, and the runner rebuilds
the state from the event log. Hashes that polars computes (the key state's match
hashes) are not stored: polars promises no stable hash across versions, so they are
computed again from the stored strings on restore.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import polars as pl
import zstandard

FORMAT = 1
_MAGIC = b"DSN1"
_TAIL = struct.Struct("<I")


class StaleState(Exception):
    """A checkpoint this process cannot read: written under other library versions,
    by a layout this code does not write, or not a checkpoint at all."""


def library_versions() -> dict[str, str]:
    """The versions of the libraries whose objects and semantics the state holds:
    polars (frames, and the hashes rebuilt from them), river (the pickled scorer)
    and numpy (under river's models). A state written under others is rebuilt."""
    return {name: version(name) for name in ("polars", "river", "numpy")}


def fingerprint(schema: Mapping[str, pl.DataType]) -> str:
    """A short digest of a frame's column names and types, in order."""
    spelled = json.dumps([[name, str(dtype)] for name, dtype in schema.items()])
    return hashlib.sha256(spelled.encode()).hexdigest()[:16]


@dataclass
class Writer:
    """Builds one envelope: add sections and values, then ``finish``."""

    part: str
    versions: dict[str, str] = field(default_factory=library_versions)
    values: dict[str, Any] = field(default_factory=dict)
    out: io.BytesIO = field(default_factory=io.BytesIO)
    sections: list[dict[str, Any]] = field(default_factory=list)

    def frame(self, name: str, frame: pl.DataFrame) -> None:
        start = self.out.tell()
        frame.write_ipc(self.out, compression="zstd")
        self.out.seek(0, io.SEEK_END)
        self._section(name, "ipc", start, schema=fingerprint(frame.schema))

    def pickled(self, name: str, value: object) -> None:
        start = self.out.tell()
        compressor = zstandard.ZstdCompressor(level=1, threads=-1)
        with compressor.stream_writer(self.out, closefd=False) as writer:
            pickle.dump(value, writer, protocol=pickle.HIGHEST_PROTOCOL)
        self.out.seek(0, io.SEEK_END)
        self._section(name, "pickle", start)

    def nested(self, name: str, blob: bytes) -> None:
        start = self.out.tell()
        self.out.write(blob)
        self._section(name, "bytes", start)

    def _section(self, name: str, kind: str, start: int, schema: str | None = None) -> None:
        size = self.out.tell() - start
        self.sections.append({"name": name, "kind": kind, "size": size, "schema": schema})

    def finish(self) -> bytes:
        header = json.dumps(
            {
                "format": FORMAT,
                "part": self.part,
                "versions": self.versions,
                "values": self.values,
                "sections": self.sections,
            }
        ).encode()
        self.out.write(header)
        self.out.write(_TAIL.pack(len(header)))
        self.out.write(_MAGIC)
        return self.out.getvalue()


@dataclass
class Reader:
    """One envelope read back: its values, and its sections on demand."""

    part: str
    values: dict[str, Any]
    blob: memoryview
    sections: dict[str, tuple[str, int, int, str | None]]

    @classmethod
    def open(cls, blob: bytes, *, part: str, versions: Mapping[str, str]) -> Reader:
        """Read the header of an envelope of ``part``; ``StaleState`` if ``blob`` is
        none, or was written by another format or under other library versions."""
        view = memoryview(blob)
        if len(view) < _TAIL.size + len(_MAGIC) or bytes(view[-len(_MAGIC) :]) != _MAGIC:
            raise StaleState(f"{part}: not a checkpoint envelope")
        end = len(view) - len(_MAGIC)
        (size,) = _TAIL.unpack(view[end - _TAIL.size : end])
        start = end - _TAIL.size - size
        try:
            header = json.loads(bytes(view[start : end - _TAIL.size]))
        except ValueError as error:
            raise StaleState(f"{part}: unreadable header: {error}") from error
        if header.get("format") != FORMAT or header.get("part") != part:
            raise StaleState(
                f"{part}: envelope of part {header.get('part')!r}, format "
                f"{header.get('format')!r}; this code reads {part!r}, format {FORMAT}"
            )
        if header.get("versions") != dict(versions):
            raise StaleState(
                f"{part}: written under {header.get('versions')}, this process has {dict(versions)}"
            )
        sections: dict[str, tuple[str, int, int, str | None]] = {}
        offset = 0
        for item in header["sections"]:
            sections[item["name"]] = (item["kind"], offset, item["size"], item["schema"])
            offset += item["size"]
        return cls(part, header["values"], view, sections)

    def has(self, name: str) -> bool:
        return name in self.sections

    def _bytes(self, name: str, kind: str) -> tuple[memoryview, str | None]:
        if name not in self.sections:
            raise StaleState(f"{self.part}: no section {name!r}")
        found, offset, size, schema = self.sections[name]
        if found != kind:
            raise StaleState(f"{self.part}/{name}: a {found} section, not {kind}")
        return self.blob[offset : offset + size], schema

    def frame(self, name: str, expected: Mapping[str, pl.DataType]) -> pl.DataFrame:
        """The frame of section ``name``, which must have the ``expected`` schema:
        a frame written by code whose columns differ is stale, not converted."""
        data, schema = self._bytes(name, "ipc")
        if schema != fingerprint(expected):
            raise StaleState(f"{self.part}/{name}: written with another schema")
        try:
            frame = pl.read_ipc(io.BytesIO(data))
        except Exception as error:
            raise StaleState(f"{self.part}/{name}: unreadable frame: {error}") from error
        if fingerprint(frame.schema) != schema:
            raise StaleState(f"{self.part}/{name}: its schema is not the one recorded")
        return frame

    def pickled(self, name: str) -> Any:
        data, _ = self._bytes(name, "pickle")
        try:
            with zstandard.ZstdDecompressor().stream_reader(data) as reader:
                # Written only by this pipeline, into its own database.
                return pickle.load(reader)  # noqa: S301
        except Exception as error:
            raise StaleState(f"{self.part}/{name}: unreadable: {error}") from error

    def nested(self, name: str) -> bytes:
        data, _ = self._bytes(name, "bytes")
        return bytes(data)
