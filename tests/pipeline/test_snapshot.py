"""The engine's checkpoint: each part (clock and windows, account and key state, case
tracker) in a versioned envelope of its own, frames as Arrow IPC. A state snapshot
and restored at any point carries on exactly as the one that never stopped; what
polars hashed is computed again rather than stored; another layout or other library
versions are refused (``StaleState``), for the runner to rebuild."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from detector.pipeline.cases import CaseUpdate
from detector.pipeline.engine import Engine
from detector.pipeline.snapshot import Reader, StaleState, Writer, library_versions
from tests.pipeline.test_event_time import frames
from tests.pipeline.traffic import Traffic

HASHES = {"_acct", "_tie", "_group", "_key"}


def feed(
    traffic: Traffic, *, restart: bool, batches: int = 24
) -> tuple[Engine, list[CaseUpdate], list[bytes]]:
    """Run ``traffic`` with a fifth of the campaign's records arriving last, days
    late; with ``restart``, through a snapshot and a restore after every batch."""
    records, meta = frames(traffic)
    late = pl.col("account_id").is_in(sorted(traffic.campaign)) & (pl.int_range(pl.len()) % 5 == 0)
    held, first = records.filter(late), records.filter(~late)
    engine = Engine()
    engine.set_meta(meta)
    updates: list[CaseUpdate] = []
    blobs: list[bytes] = []
    size = -(-first.height // batches)
    for part in [first.slice(start, size) for start in range(0, first.height, size)] + [held]:
        engine.add(part)
        updates += engine.advance()
        if restart:
            blobs.append(engine.snapshot())
            engine = Engine.restore(blobs[-1])
    updates += engine.advance(flush=True)
    return engine, updates, blobs


def test_a_restored_state_carries_on_as_the_one_that_never_stopped(traffic: Traffic) -> None:
    steady, expected, _ = feed(traffic, restart=False)
    restored, updates, blobs = feed(traffic, restart=True)
    assert updates == expected
    assert any(u.opened for u in updates)
    # Every part as it would have been (grouping leaves rows in no set order, even in
    # one run): hashes computed again equal those kept.
    for name in ("accounts_", "meta_keys_"):
        assert_frame_equal(getattr(restored, name), getattr(steady, name), check_row_order=False)
    for name in ("rows", "floors"):
        mine, theirs = getattr(restored.keys_, name), getattr(steady.keys_, name)
        assert_frame_equal(mine, theirs, check_row_order=False)
    assert restored.cases_.keys() == steady.cases_.keys()
    assert restored.registry.members_ == steady.registry.members_
    # The snapshots caught windows open, aggregates pending and late records waiting.
    clocks = [Reader.open(b, part="engine", versions=library_versions()) for b in blobs]
    parts = [
        Reader.open(c.nested("clock"), part="clock", versions=library_versions()) for c in clocks
    ]
    assert any(p.values["pending_starts"] for p in parts)
    assert parts[-1].values["late"] > 0


def test_no_polars_hash_is_stored(traffic: Traffic) -> None:
    *_, blobs = feed(traffic, restart=True, batches=4)
    versions = library_versions()
    engine = Reader.open(blobs[1], part="engine", versions=versions)
    stored = {
        part: Reader.open(engine.nested(part), part=part, versions=versions)
        for part in ("clock", "accounts")
    }
    for part, data in stored.items():
        for name, (kind, *_rest) in data.sections.items():
            if kind == "ipc":
                columns = set(pl.read_ipc(bytes(data._bytes(name, "ipc")[0])).columns)
                assert not columns & HASHES, f"{part}/{name} stores {columns & HASHES}"


def test_other_library_versions_are_refused(traffic: Traffic) -> None:
    *_, blobs = feed(traffic, restart=True, batches=2)
    with pytest.raises(StaleState, match="written under"):
        Engine.restore(blobs[0], versions=library_versions() | {"river": "0.0"})


def test_a_frame_of_another_schema_is_refused() -> None:
    out = Writer("accounts")
    out.frame("accounts", pl.DataFrame({"account_id": ["a"], "records": [1]}))
    data = Reader.open(out.finish(), part="accounts", versions=library_versions())
    with pytest.raises(StaleState, match="another schema"):
        data.frame("accounts", {"account_id": pl.String(), "records": pl.Int32()})


@pytest.mark.parametrize(
    "blob", [b"", b"not a checkpoint", b"\x00" * 64 + b"DSN1"], ids=["empty", "text", "torn"]
)
def test_what_is_not_an_envelope_is_stale(blob: bytes) -> None:
    with pytest.raises(StaleState):
        Engine.restore(blob)
