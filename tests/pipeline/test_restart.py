"""A worker killed mid-replay resumes from its last checkpoint: same cases as an
uninterrupted run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC

import polars as pl
import pytest
from sqlalchemy import Engine, select, text

from detector.features.frames import RECORD_SCHEMA, narrow
from detector.pipeline.engine import META_SCHEMA
from detector.pipeline.engine import Engine as PipelineEngine
from detector.store.cases import write_case_updates
from detector.store.pipeline_models import CaseRow
from tests.pipeline.traffic import Traffic


def expected_cases(data: Traffic) -> dict[str, tuple[float, int, int]]:
    """Case id → (opened_at, accounts, records) from an uninterrupted in-memory run."""
    engine = PipelineEngine()
    engine.set_meta(pl.from_dicts(data.accounts, schema=META_SCHEMA))
    engine.add(narrow(pl.from_dicts(data.records, schema=RECORD_SCHEMA)))
    updates = engine.advance(flush=True)
    last = {u.case_id: u for u in updates}
    return {cid: (u.opened_at, u.account_count, u.record_count) for cid, u in last.items()}


def stored_cases(engine: Engine) -> dict[str, tuple[float, int, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(CaseRow.case_id, CaseRow.opened_at, CaseRow.account_count, CaseRow.record_count)
        ).all()
    # SQLite hands back naive datetimes; the store writes UTC.
    return {
        case_id: (opened.replace(tzinfo=UTC).timestamp(), accounts, records)
        for case_id, opened, accounts, records in rows
    }


def processed(engine: Engine) -> int:
    with engine.connect() as conn:
        value = conn.execute(text("SELECT processed FROM pipeline_state")).scalar()
    return int(value or 0)


@pytest.mark.db
@pytest.mark.slow
def test_killed_worker_resumes_to_the_same_cases(
    engine: Engine,
    migrated_url: str,
    traffic: Traffic,
    ingest: Callable[[Traffic, int], None],
) -> None:
    ingest(traffic, 500)
    env = {
        **os.environ,
        "DETECTOR_DATABASE_URL": migrated_url,
        "DETECTOR_PIPELINE_CHUNK_RECORDS": "2000",
        "DETECTOR_PIPELINE_CHECKPOINT_SECONDS": "0.01",
        "DETECTOR_PIPELINE_LEASE_SECONDS": "1",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "detector.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while processed(engine) < len(traffic.records) // 3:
            assert time.monotonic() < deadline, "the worker made no progress"
            time.sleep(0.05)
    finally:
        worker.kill()  # SIGKILL: no clean shutdown, no lease release
        worker.wait()
    done = processed(engine)
    assert 0 < done < len(traffic.records), "the kill should land mid-replay"
    time.sleep(1.1)  # the dead worker's lease lapses
    subprocess.run(
        [sys.executable, "-m", "detector.cli", "worker", "--once", "--flush"],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert processed(engine) == len(traffic.records)
    got = stored_cases(engine)
    want = expected_cases(traffic)
    assert set(got) == set(want)
    for case_id, (opened, accounts, records) in want.items():
        assert got[case_id] == (opened, accounts, records)


@pytest.mark.db
def test_updates_are_not_written_before_the_engine_settles(
    engine: Engine, traffic: Traffic
) -> None:
    pipeline = PipelineEngine()
    pipeline.set_meta(pl.from_dicts(traffic.accounts, schema=META_SCHEMA))
    pipeline.add(narrow(pl.from_dicts(traffic.records, schema=RECORD_SCHEMA)))
    updates = [u for step in pipeline.closing(flush=True) for u in step]
    updates += pipeline.collect()
    assert updates
    # Written now, the case would show no shared infrastructure and no timeline.
    with engine.begin() as conn, pytest.raises(ValueError, match="before the engine settled"):
        write_case_updates(conn, updates=updates)
    pipeline.settle()
    with engine.begin() as conn:
        assert write_case_updates(conn, updates=updates) == 1
        (shared,) = conn.execute(select(CaseRow.shared)).one()
    assert {item["value"] for item in shared["payment"]} == {"pay-c1", "pay-c2", "pay-c3"}
