"""The schema comes only from Alembic: up to head, down to base and back, on SQLite
and PostgreSQL (``pytest -m db --database-url postgresql+psycopg://...``)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

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
