"""The same records in any arrival order, from concurrent senders, give the same
cases: records that arrive after their window closed still count (a late correction)."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import polars as pl
import pytest
from sqlalchemy import Engine, select

from detector.config import Settings
from detector.features.frames import RECORD_SCHEMA, narrow
from detector.ingest.service import Ingestor
from detector.pipeline.engine import META_SCHEMA
from detector.pipeline.engine import Engine as PipelineEngine
from detector.pipeline.runner import PipelineRunner
from detector.store.pipeline_models import CaseAccountRow, CaseRow
from tests.pipeline.conftest import ndjson
from tests.pipeline.traffic import Traffic


def in_order(data: Traffic) -> dict[frozenset[str], int]:
    """Each case's accounts and records, from the records fed in event-time order."""
    engine = PipelineEngine()
    engine.set_meta(pl.from_dicts(data.accounts, schema=META_SCHEMA))
    engine.add(narrow(pl.from_dicts(data.records, schema=RECORD_SCHEMA)))
    last = {u.case_id: u for u in engine.advance(flush=True)}
    return {frozenset(u.account_records): u.record_count for u in last.values()}


def stored(db: Engine) -> dict[frozenset[str], int]:
    with db.connect() as conn:
        rows = conn.execute(select(CaseAccountRow.case_id, CaseAccountRow.account_id)).all()
        counts = dict(conn.execute(select(CaseRow.case_id, CaseRow.record_count)).all())
    cases: dict[str, set[str]] = {}
    for case_id, account in rows:
        cases.setdefault(case_id, set()).add(account)
    return {frozenset(accounts): counts[case_id] for case_id, accounts in cases.items()}


@pytest.mark.db
@pytest.mark.parametrize("seed", [1, 2], ids=["permutation-1", "permutation-2"])
def test_permuted_concurrent_arrival_gives_the_same_cases(
    engine: Engine, settings: Settings, traffic: Traffic, seed: int
) -> None:
    ingestor = Ingestor(engine, settings)
    ingestor.accounts(ndjson(traffic.accounts), "ndjson")
    batches = [traffic.records[i : i + 1_000] for i in range(0, len(traffic.records), 1_000)]
    random.Random(seed).shuffle(batches)
    runner = PipelineRunner(db=engine, chunk_records=3_000)
    with ThreadPoolExecutor(max_workers=4) as senders:
        sent = [senders.submit(ingestor.records, ndjson(b), "ndjson") for b in batches]
        # The pipeline steps while the senders are still at work.
        while not all(f.done() for f in sent):
            runner.step()
        for future in sent:
            assert future.result().accepted == len(batches[sent.index(future)])
    runner.run_until_idle(flush=True)
    assert runner.status()["processed"] == len(traffic.records)
    assert runner.status()["late"] > 0, "every record arrived in time: nothing was tested"
    assert stored(engine) == in_order(traffic)
