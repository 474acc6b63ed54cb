"""Stage 2 from the store: stopped after some batches and started again from its
checkpoint, it writes what one uninterrupted run writes."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import Engine, select

from detector.config import Settings
from detector.features.frames import RECORD_SCHEMA, narrow
from detector.ingest.service import Ingestor
from detector.scaleout.frames import to_ipc, window_parts
from detector.scaleout.stage2 import Stage2
from detector.store.aggregates import Part, write_batch
from detector.store.db import write_transaction
from detector.store.pipeline_models import CaseRow
from tests.pipeline.conftest import ndjson
from tests.pipeline.traffic import make_traffic


def batches(hours: int) -> list[list[Part]]:
    """Stage 1's batches of seeded traffic: three windows each, every window whole."""
    data = make_traffic(seed=2, hours=hours, honest=16, campaign=6)
    records = narrow(pl.from_dicts(data.records, schema=RECORD_SCHEMA))
    framed = records.with_columns((pl.col("ts") // 3600).cast(pl.Int64).alias("_w"))
    out: list[list[Part]] = []
    for index, ((w,), window) in enumerate(sorted(framed.partition_by("_w", as_dict=True).items())):
        if index % 3 == 0:
            out.append([])
        start = float(int(w) * 3600)
        for name, frame in window_parts(window.drop("_w"), start=start).items():
            out[-1].append(Part(len(out) - 1, start, name, frame.height, to_ipc(frame)))
    return out


def cases(db: Engine) -> list[tuple[str, float, int, float]]:
    with db.connect() as conn:
        rows = conn.execute(
            select(
                CaseRow.case_id, CaseRow.opened_at, CaseRow.record_count, CaseRow.score
            ).order_by(CaseRow.case_id)
        ).all()
    return [(c, o.timestamp(), n, round(s, 6)) for c, o, n, s in rows]


@pytest.mark.db
def test_restarted_stage2_writes_what_one_run_writes(engine: Engine, settings: Settings) -> None:
    data = make_traffic(seed=2, hours=1, honest=16, campaign=6)
    Ingestor(engine, settings).accounts(ndjson(data.accounts), "ndjson")
    made = batches(hours=30)

    def commit(chosen: list[list[Part]]) -> None:
        for parts in chosen:
            with write_transaction(engine) as conn:
                write_batch(conn, batch_id=parts[0].batch_id, watermark=None, parts=parts)

    commit(made[:4])
    first = Stage2(engine).step()
    commit(made[4:])
    # A new process: the engine comes from the checkpoint, not from memory.
    second = Stage2(engine).step()
    assert first and second
    restarted = cases(engine)

    with write_transaction(engine) as conn:
        for table in ("case_accounts", "cases", "stage2_state"):
            conn.exec_driver_sql(f"DELETE FROM {table}")  # noqa: S608
    assert Stage2(engine).step()
    assert cases(engine) == restarted
