"""Reading back what the store kept, for assertions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from tests.support.records import stored_records as stored_in_order


def stored_records(engine: Engine) -> dict[str, dict[str, Any]]:
    """Every stored record, by event_id."""
    return {record["event_id"]: record for record in stored_in_order(engine)}
