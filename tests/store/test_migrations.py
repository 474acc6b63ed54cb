"""The schema comes only from Alembic: up to head, down to base and back, on SQLite
and PostgreSQL (``pytest -m db --database-url postgresql+psycopg://...``)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

import detector.store
from detector.store.db import make_engine
from detector.store.migrate import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from detector.store.models import Base

pytestmark = pytest.mark.db


def _import_every_model() -> None:
    """Models register their tables on ``Base`` when imported; import all of them."""
    for module in pkgutil.iter_modules(detector.store.__path__):
        importlib.import_module(f"detector.store.{module.name}")


@pytest.fixture
def empty(database_url: str) -> Iterator[tuple[str, Engine]]:
    engine = make_engine(database_url)
    yield database_url, engine
    engine.dispose()


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_upgrade_to_head_and_down_to_base_and_back(empty: tuple[str, Engine]) -> None:
    url, engine = empty
    _import_every_model()
    assert tables(engine) == set()
    upgrade(url)
    assert current_revision(engine) == head_revision()
    assert tables(engine) == {*Base.metadata.tables, "alembic_version"}
    assert {"event_keys", "segments", "accounts"} <= tables(engine)

    downgrade(url, "base")
    assert current_revision(engine) is None
    assert tables(engine) <= {"alembic_version"}

    upgrade(url)
    assert current_revision(engine) == head_revision()
    assert tables(engine) == {*Base.metadata.tables, "alembic_version"}


def test_every_revision_steps_up_and_down(empty: tuple[str, Engine]) -> None:
    url, engine = empty
    steps = revisions()
    assert steps[0] == "0001"
    seen: list[set[str]] = [tables(engine)]
    for revision in steps:
        upgrade(url, revision)
        assert current_revision(engine) == revision
        seen.append(tables(engine))
    for index in range(len(steps) - 1, -1, -1):
        downgrade(url, steps[index - 1] if index else "base")
        # Each downgrade restores exactly the tables of the revision before it.
        assert tables(engine) - {"alembic_version"} == seen[index] - {"alembic_version"}


def test_models_match_the_migrations(empty: tuple[str, Engine]) -> None:
    """What the code maps is what the migrations create: no autogenerate diff."""
    url, engine = empty
    _import_every_model()
    upgrade(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(empty: tuple[str, Engine]) -> None:
    url, engine = empty
    upgrade(url)
    upgrade(url)
    assert current_revision(engine) == head_revision()


def test_0004_keeps_every_case_and_the_rows_that_reference_it(
    empty: tuple[str, Engine],
) -> None:
    """SQLite rebuilds ``cases`` for the new column and status: the rebuild must not
    cascade to the case's accounts and decisions, and each case is backfilled as
    last flagged at its last update."""
    url, engine = empty
    upgrade(url, "0003")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO cases (case_id, cluster_id, status, score, peak_score, opened_at,"
                " last_event_at, updated_at, account_count, record_count, capability_mix,"
                " reasons, features, shared, timeline, signatures) VALUES ('C1', 'k', 'open',"
                " 0.0002, 0.9, :opened, :last, :last, 1, 10, '{}', '[]', '{}', '{}', '[]', '[]')"
            ),
            {"opened": datetime(2026, 1, 1, tzinfo=UTC), "last": datetime(2026, 1, 5, tzinfo=UTC)},
        )
        conn.execute(
            text("INSERT INTO case_accounts VALUES ('C1', 'a1', :at, 5)"),
            {"at": datetime(2026, 1, 1, tzinfo=UTC)},
        )
        conn.execute(
            text(
                "INSERT INTO decisions (case_id, action, note, actor, created_at)"
                " VALUES ('C1', 'watch', '', 'alice', :at)"
            ),
            {"at": datetime(2026, 1, 2, tzinfo=UTC)},
        )
    upgrade(url, "0004")

    def counts() -> tuple[int, int]:
        with engine.connect() as conn:
            accounts = conn.execute(text("SELECT count(*) FROM case_accounts")).scalar_one()
            decisions = conn.execute(text("SELECT count(*) FROM decisions")).scalar_one()
        return int(accounts), int(decisions)

    assert counts() == (1, 1)
    with engine.begin() as conn:
        flagged = conn.execute(text("SELECT last_flagged_at FROM cases")).scalar_one()
        conn.execute(text("UPDATE cases SET status = 'cleared'"))
    assert str(flagged).startswith("2026-01-05 00:00:00")
    downgrade(url, "0003")
    assert counts() == (1, 1)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM cases")).scalar_one() == "open"
