"""``DETECTOR_PIPELINE_CHUNK_RECORDS`` bounds what one read takes in, whatever the
size of the segments."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from detector.pipeline.runner import PipelineRunner
from tests.pipeline.traffic import Traffic


@pytest.mark.parametrize(
    ("batch", "limit"),
    [(500, 2_000), (500, 1_999), (500, 100), (37, 1_000)],
    ids=["whole-segments", "one-short", "below-one-segment", "odd-segments"],
)
def test_a_chunk_holds_at_most_the_configured_records(
    engine: Engine,
    traffic: Traffic,
    ingest: Callable[[Traffic, int], None],
    batch: int,
    limit: int,
) -> None:
    part = Traffic(records=traffic.records[: 100 * batch], accounts=traffic.accounts)
    ingest(part, batch)
    runner = PipelineRunner(db=engine, chunk_records=limit)
    chunk = runner._read_chunk(0)
    sizes = [n for _, n, _ in chunk]
    assert sizes, "nothing read"
    # At least one segment, however large; never more than fit under the limit.
    assert sum(sizes) <= max(limit, sizes[0])
    # And no fewer than fit: the next segment would have crossed the limit.
    following = runner._read_chunk(chunk[-1][0])
    assert sum(sizes) + following[0][1] > limit
