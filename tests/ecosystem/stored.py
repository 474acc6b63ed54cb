"""Reading back what the store kept, for assertions."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Engine

from detector.store.event_log import iter_segments


def stored_records(engine: Engine) -> dict[str, dict[str, Any]]:
    """Every stored record, by event_id."""
    records: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for _, ndjson in iter_segments(conn):
            for line in ndjson.splitlines():
                if line.strip():
                    record = orjson.loads(line)
                    records[record["event_id"]] = record
    return records
