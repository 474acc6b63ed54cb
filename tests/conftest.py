"""Shared fixtures: a migrated database per test (SQLite, or PostgreSQL when
``DETECTOR_TEST_DATABASE_URL`` is set), settings, and a real server on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from detector.config import Settings
from detector.store.db import make_engine
from detector.store.migrate import upgrade
from tests.support.records import record_factory  # noqa: F401  (a fixture, shared)
from tests.support.server import LiveServer, serve_in_thread

TOKEN = "test-token-0123456789"


@pytest.fixture
def database_url(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh schema on the test PostgreSQL."""
    base = request.config.getoption("--database-url")
    if not base:
        yield f"sqlite:///{tmp_path / 'detector.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def migrated_url(database_url: str) -> str:
    upgrade(database_url)
    return database_url


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def make_settings(tmp_path: Path, migrated_url: str) -> Callable[..., Settings]:
    """Settings on the test database; keyword arguments override any field."""

    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": tmp_path,
            "database_url": migrated_url,
            "api_tokens": [TOKEN],
            # In the request's thread: an app per test would otherwise start its own
            # pool of processes. tests/api/test_ingest_pool.py and every test that
            # runs `detector serve` as a process go through the pool.
            "ingest_processes": 0,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    """The app served by uvicorn on a free loopback port, in a thread."""
    with serve_in_thread(settings) as live:
        yield live


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-url",
        default=None,
        help="run database tests against this server URL (e.g. PostgreSQL) instead of SQLite",
    )
