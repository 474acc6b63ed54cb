"""Fixtures for pipeline tests: seeded traffic and a way to ingest it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from detector.config import Settings
from detector.ingest.service import Ingestor
from tests.pipeline.traffic import Traffic, make_traffic


@pytest.fixture(scope="session")
def traffic() -> Traffic:
    """Two days of 40 honest accounts and a 12-account campaign (~36k records)."""
    return make_traffic(seed=1, hours=48, honest=40, campaign=12)


def ndjson(items: Sequence[dict[str, Any]]) -> bytes:
    return b"\n".join(orjson.dumps(item) for item in items)


@pytest.fixture
def ingest(engine: Engine, settings: Settings) -> Callable[[Traffic, int], None]:
    """Store ``traffic`` through the real ingest path, in batches of ``batch`` records."""
    ingestor = Ingestor(engine, settings)

    def run(data: Traffic, batch: int) -> None:
        ingestor.accounts(ndjson(data.accounts), "ndjson")
        for start in range(0, len(data.records), batch):
            ingestor.records(ndjson(data.records[start : start + batch]), "ndjson")

    return run
