"""A record that a pipeline step fails on is set aside, never a stall: the step is
tried once more as it was, then its chunk is bisected down to the failing records
(or a segment that cannot be read at all), which go to ``pipeline_quarantine``; every
record after them still becomes a case. ``/readyz`` and ``/metrics`` say when the
pipeline is stalled or behind."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import polars as pl
import pytest
from sqlalchemy import Engine, select, text

from detector.config import Settings
from detector.pipeline.runner import PipelineRunner
from detector.schema import Record
from detector.store.db import write_transaction
from detector.store.event_log import append_records
from detector.store.pipeline_models import QuarantineRow
from tests.ecosystem.test_metrics_logs import scrape
from tests.pipeline.test_restart import expected_cases, processed, stored_cases
from tests.pipeline.traffic import START, Traffic
from tests.support.server import serve_in_thread


def stored_by_a_writer_that_skipped_validation(engine: Engine) -> int:
    """A segment written through the store's own append path from records that were
    built rather than decoded (as a tool importing old logs might), so nothing checked
    their types: two hold values the record schema cannot hold, between them a sound
    record of an account seen nowhere else. Returns the segment's id."""
    records = [
        Record(
            event_id="poison-tools",
            ts_start=START + 600,
            account_id="acct-poison",
            request_model="model-a",
            tool_names="web_search",  # type: ignore[arg-type]  (a list in the schema)
        ),
        Record(
            event_id="bystander", ts_start=START + 660, account_id="bystander", request_model="m"
        ),
        Record(
            event_id="poison-tokens",
            ts_start=START + 720,
            account_id="acct-poison",
            request_model="model-a",
            input_tokens=1.5,  # type: ignore[arg-type]  (an integer in the schema)
        ),
    ]
    with write_transaction(engine) as conn:
        append_records(conn, records=records)
        return int(conn.execute(text("SELECT max(id) FROM segments")).scalar_one())


def corrupted(engine: Engine) -> tuple[int, int]:
    """A segment whose payload no longer decompresses; returns its id and records."""
    record = Record(event_id="lost", ts_start=START + 900, account_id="lost", request_model="m")
    with write_transaction(engine) as conn:
        append_records(conn, records=[record])
        victim = int(conn.execute(text("SELECT max(id) FROM segments")).scalar_one())
        conn.execute(
            text("UPDATE segments SET payload = :p WHERE id = :id"),
            {"p": b"\x28\xb5\x2f\xfd" + bytes(16), "id": victim},
        )
    return victim, 1


@pytest.mark.db
def test_failing_records_are_set_aside_and_the_rest_become_cases(
    engine: Engine,
    traffic: Traffic,
    ingest: Callable[[Traffic, int], None],
    make_settings: Callable[..., Settings],
) -> None:
    half = len(traffic.records) // 2
    ingest(Traffic(records=traffic.records[:half], accounts=traffic.accounts), 500)
    poisoned = stored_by_a_writer_that_skipped_validation(engine)
    unreadable, lost = corrupted(engine)
    ingest(Traffic(records=traffic.records[half:], accounts=traffic.accounts), 500)

    worker = PipelineRunner(db=engine, chunk_records=2000, checkpoint_seconds=3600.0)
    # The first failure may pass (a read cut short): the step is retried as it was.
    with pytest.raises((ValueError, pl.exceptions.PolarsError)):
        worker.step()
    assert processed(engine) == 0, "nothing was checkpointed"
    total = worker.run_until_idle(flush=True)
    assert total.quarantined == 2 + lost

    with engine.connect() as conn:
        aside = conn.execute(
            select(
                QuarantineRow.segment_id,
                QuarantineRow.line,
                QuarantineRow.event_id,
                QuarantineRow.stage,
                QuarantineRow.record_count,
                QuarantineRow.error,
            ).order_by(QuarantineRow.segment_id, QuarantineRow.line)
        ).all()
    assert [tuple(row[:5]) for row in aside] == [
        (poisoned, 0, "poison-tools", "parse", 1),
        (poisoned, 2, "poison-tokens", "parse", 1),
        (unreadable, None, None, "decode", lost),
    ]
    assert all(row.error for row in aside)
    # Every other record was taken in, the bystander between the two included, and
    # the campaign's records after the poisoned segment made the same cases as a
    # run that never met it.
    assert processed(engine) == len(traffic.records) + 1
    assert stored_cases(engine) == expected_cases(traffic)
    assert worker.status()["quarantined"] == 3

    settings = make_settings(pipeline_embedded=False)
    with serve_in_thread(settings) as live:
        samples = scrape(live.url)
        assert samples[("detector_pipeline_quarantined_records_total", ())] == 3
        assert samples[("detector_pipeline_pending_records", ())] == 0
        assert samples[("detector_pipeline_backlog_records", ())] == 0
        assert samples[("detector_pipeline_stalled", ())] == 0
        with live.client() as client:
            view = client.get("/v1/pipeline").json()
        assert (view["quarantined"], view["pending"]) == (3, 0)


@pytest.mark.db
def test_readyz_and_metrics_say_when_the_pipeline_is_stalled(
    engine: Engine,
    traffic: Traffic,
    ingest: Callable[[Traffic, int], None],
    make_settings: Callable[..., Settings],
) -> None:
    # No pipeline runs beside this server: work waits, and nothing checkpoints.
    settings = make_settings(pipeline_embedded=False, pipeline_stall_seconds=1.0)
    part = Traffic(records=traffic.records[:3000], accounts=traffic.accounts)
    with serve_in_thread(settings, ready_path="/healthz") as live:
        assert httpx.get(f"{live.url}/readyz").json()["pipeline"] == "ok"
        ingest(part, 1000)
        behind = httpx.get(f"{live.url}/readyz")
        assert behind.status_code == 200
        assert behind.json()["pipeline"].startswith("behind: 3000 records in 3 segments")
        time.sleep(1.2)
        stalled = httpx.get(f"{live.url}/readyz")
        assert stalled.status_code == 503
        assert stalled.json()["pipeline"].startswith("stalled: 3000 records in 3 segments")
        samples = scrape(live.url)
        assert samples[("detector_pipeline_stalled", ())] == 1
        assert samples[("detector_pipeline_backlog_records", ())] == 3000
        assert samples[("detector_pipeline_backlog_segments", ())] == 3
        assert samples[("detector_pipeline_backlog_seconds", ())] > 1.0

        PipelineRunner(db=engine).run_until_idle()
        ready = httpx.get(f"{live.url}/readyz")
        assert ready.status_code == 200 and ready.json()["pipeline"] == "ok"
        samples = scrape(live.url)
        assert samples[("detector_pipeline_stalled", ())] == 0
        assert samples[("detector_pipeline_backlog_records", ())] == 0
        assert samples[("detector_pipeline_seconds_since_progress", ())] < 1.0
