"""Committed segments written as files for a distributed job: the stored bytes, whole."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from detector.config import Settings
from detector.ingest.service import Ingestor
from detector.store.models import Segment
from detector.store.segment_export import SUFFIX
from tests.pipeline.conftest import ndjson
from tests.pipeline.traffic import make_traffic


@pytest.mark.db
def test_each_committed_segment_is_a_file_holding_the_stored_payload(
    engine: Engine, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    out = tmp_path / "segments"
    ingestor = Ingestor(engine, make_settings(segment_export_dir=out))
    records = make_traffic(seed=3, hours=2, honest=3, campaign=3).records
    assert ingestor.records(ndjson(records[:50]), "ndjson").accepted == 50
    # Half of this batch was accepted before: only the new half is stored and exported.
    assert ingestor.records(ndjson(records[25:80]), "ndjson").accepted == 30
    # Nothing new: no segment payload, no file.
    assert ingestor.records(ndjson(records[:10]), "ndjson").accepted == 0

    files = sorted(out.iterdir())
    assert [f.name.endswith(SUFFIX) and not f.name.startswith(".") for f in files] == [True] * 2
    with engine.connect() as conn:
        stored = conn.execute(
            select(Segment.payload).where(Segment.payload.is_not(None)).order_by(Segment.id)
        ).scalars()
        assert [f.read_bytes() for f in files] == list(stored)


def test_no_directory_set_writes_nothing(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    assert settings.segment_export_dir is None
    records = make_traffic(seed=3, hours=1, honest=2, campaign=3).records
    assert Ingestor(engine, settings).records(ndjson(records[:5]), "ndjson").accepted == 5
    assert not list(tmp_path.rglob(f"*{SUFFIX}"))
