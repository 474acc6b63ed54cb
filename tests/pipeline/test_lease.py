"""One active worker at a time: the lease a step runs under, and what happens when it
passes to another worker."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from detector.pipeline.runner import PipelineRunner
from tests.pipeline.test_restart import expected_cases, processed, stored_cases
from tests.pipeline.traffic import Traffic


def runner(engine: Engine, holder: str, lease: float) -> PipelineRunner:
    return PipelineRunner(
        db=engine, holder=holder, chunk_records=2000, checkpoint_seconds=0.0, lease_seconds=lease
    )


def assert_same_cases_as_one_run(worker: PipelineRunner, engine: Engine, data: Traffic) -> None:
    """Flush ``worker``; every record is processed once, to the cases of one run."""
    worker.step(flush=True)
    assert processed(engine) == len(data.records)
    assert stored_cases(engine) == expected_cases(data)


@pytest.mark.db
def test_a_worker_keeps_its_state_in_memory_while_no_one_else_takes_the_lease(
    engine: Engine, traffic: Traffic, ingest: Callable[[Traffic, int], None]
) -> None:
    ingest(traffic, 100)  # segments of 100 records: a step reads 6,400
    worker = runner(engine, "a", lease=0.01)
    worker.step()
    held = worker.engine_
    assert held is not None
    time.sleep(0.05)  # the lease lapses, but nobody takes it
    while worker.step().segments:
        # Resuming from the store instead would cost a full unpickling a step.
        assert worker.engine_ is held
    assert_same_cases_as_one_run(worker, engine, traffic)
    assert worker.engine_ is held


@pytest.mark.db
def test_a_worker_resumes_from_the_store_after_another_held_the_lease(
    engine: Engine, traffic: Traffic, ingest: Callable[[Traffic, int], None]
) -> None:
    ingest(traffic, 100)  # segments of 100 records: a step reads 6,400
    first, second = runner(engine, "a", lease=0.2), runner(engine, "b", lease=0.2)
    first.step()
    stale = first.engine_
    assert second.step().segments == 0, "the first worker's lease is live"
    time.sleep(0.25)
    assert second.step().segments > 0, "a lapsed lease passes to the other worker"
    time.sleep(0.25)
    while first.step().segments:
        pass
    assert first.engine_ is not stale, "the first worker resumed from the second's checkpoint"
    assert_same_cases_as_one_run(first, engine, traffic)


@pytest.mark.db
def test_a_worker_that_lost_the_lease_checkpoints_nothing(
    engine: Engine, traffic: Traffic, ingest: Callable[[Traffic, int], None]
) -> None:
    ingest(traffic, 100)  # segments of 100 records: a step reads 6,400
    first, second = runner(engine, "a", lease=0.1), runner(engine, "b", lease=60)
    first.step()
    done = processed(engine)
    held = first.engine_
    assert held is not None
    time.sleep(0.15)
    assert second.try_lease()
    # The first worker's step reaches its checkpoint only now, after the handover.
    assert first._checkpoint(held, [], []) is None
    assert processed(engine) == done
    assert first.step().segments == 0


@pytest.mark.db
def test_the_chunk_read_ahead_carries_into_the_next_step(
    engine: Engine, traffic: Traffic, ingest: Callable[[Traffic, int], None]
) -> None:
    ingest(traffic, 100)  # segments of 100 records: a step reads 6,400
    worker = runner(engine, "a", lease=60.0)
    worker.step()
    # Reading goes on while the step checkpoints, into the next step.
    assert worker.ahead_ is not None
    while worker.step().segments:
        pass
    assert_same_cases_as_one_run(worker, engine, traffic)
