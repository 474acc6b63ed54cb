"""A step that fails part way leaves nothing half done behind: the worker resumes from
its last checkpoint, so the records it took in before the failure are not counted
twice when the step is tried again, and the state it resumes gets the accounts'
sign-up metadata again."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import zstandard
from sqlalchemy import Engine, select, text

from detector.pipeline.runner import PipelineRunner
from detector.store.pipeline_models import CaseRow
from tests.pipeline.test_restart import expected_cases, processed, stored_cases
from tests.pipeline.traffic import Traffic


def evidence(engine: Engine) -> dict[str, tuple[object, ...]]:
    """What a reviewer reads of each stored case: reasons, signatures, shared payment."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(CaseRow.case_id, CaseRow.reasons, CaseRow.signatures, CaseRow.shared)
        ).all()
    return {
        case_id: (reasons, signatures, sorted(p["value"] for p in shared.get("payment", [])))
        for case_id, reasons, signatures, shared in rows
    }


def run_to_the_end(worker: PipelineRunner) -> int:
    while worker.step().segments:
        pass
    return worker.step(flush=True).late


@pytest.mark.db
def test_a_step_that_failed_reading_is_retried_to_the_same_cases(
    engine: Engine, traffic: Traffic, ingest: Callable[[Traffic, int], None]
) -> None:
    ingest(traffic, 100)  # segments of 100 records; a chunk is the first 64 of them
    with engine.connect() as conn:
        victim, payload = conn.execute(
            text("SELECT id, payload FROM segments ORDER BY id LIMIT 1 OFFSET 70")
        ).one()
    with engine.begin() as conn:  # a payload that cannot be read, for now
        conn.execute(
            text("UPDATE segments SET payload = :p WHERE id = :id"),
            {"p": b"\x28\xb5\x2f\xfd" + bytes(16), "id": victim},
        )
    # One step takes in every chunk there is: the first, then fails on the second.
    worker = PipelineRunner(db=engine, chunk_records=2000, checkpoint_seconds=3600.0)
    with pytest.raises((zstandard.ZstdError, ValueError)):
        worker.step()
    assert processed(engine) == 0, "nothing was checkpointed"
    with engine.begin() as conn:  # the store can be read again
        conn.execute(
            text("UPDATE segments SET payload = :p WHERE id = :id"), {"p": payload, "id": victim}
        )
    assert run_to_the_end(worker) == 0
    assert processed(engine) == len(traffic.records)
    assert stored_cases(engine) == expected_cases(traffic)
    # The same evidence as a run that never failed, in a store of its own.
    failed = evidence(engine)
    with engine.begin() as conn:
        for table in ("case_accounts", "cases", "pipeline_segments", "pipeline_state"):
            conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (fixed names)
    assert run_to_the_end(PipelineRunner(db=engine, chunk_records=2000)) == 0
    assert failed == evidence(engine)
    assert any("shared_payment" in signatures for _, signatures, _ in failed.values())
