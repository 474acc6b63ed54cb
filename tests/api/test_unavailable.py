"""503 when the store cannot take a batch, and /readyz when the schema is not at head."""

from __future__ import annotations

import sqlite3
import threading
import time

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from detector.store.migrate import downgrade, head_revision, upgrade
from tests.api.conftest import MakeServer
from tests.support.records import RecordFactory, stored_records
from tests.support.server import free_port

pytestmark = pytest.mark.db


def test_unreachable_database_is_503_and_not_ready(
    make_server: MakeServer, record_factory: RecordFactory
) -> None:
    # A PostgreSQL URL on a loopback port where nothing listens.
    dead = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test?connect_timeout=3"
    live = make_server(database_url=dead, pipeline_embedded=False, ready_path="/healthz")
    with live.client() as client:
        for path, items in (
            ("/v1/records", record_factory.records(3)),
            ("/v1/accounts", record_factory.accounts(2)),
        ):
            answer = client.post(path, json=items)
            assert answer.status_code == 503, answer.text
            assert answer.headers["Retry-After"] == "1"
            assert "retry" in answer.json()["detail"]
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert "unreachable" in ready.json()["database"]
    assert "postgres@" not in ready.text  # no connection details leak


def test_locked_sqlite_is_503_and_the_retry_is_stored_once(
    make_server: MakeServer,
    engine: Engine,
    migrated_url: str,
    record_factory: RecordFactory,
) -> None:
    """Another process holds the write lock past the busy timeout: 503, then a retry
    once the lock is gone stores the batch exactly once."""
    url = make_url(migrated_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("a SQLite lock")
    live = make_server(pipeline_embedded=False, sqlite_busy_timeout=2.0)
    batch = record_factory.records(10)
    holder = sqlite3.connect(url.database or "", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO event_keys (ts, key) VALUES (1, 42)")
    try:
        started = time.monotonic()
        with live.client() as client:
            answer = client.post("/v1/records", json=batch)
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "1"
    assert waited > 1.5  # it waited for the lock before giving up
    assert stored_records(engine) == []
    with live.client() as client:
        assert client.post("/v1/records", json=batch).json()["accepted"] == 10
        assert client.post("/v1/records", json=batch).json()["duplicates"] == 10
    assert len(stored_records(engine)) == 10


def test_a_brief_lock_only_delays_the_answer(
    make_server: MakeServer, engine: Engine, migrated_url: str, record_factory: RecordFactory
) -> None:
    """A writer holding the lock for a moment makes the batch wait, not fail."""
    url = make_url(migrated_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("a SQLite lock")
    live = make_server(pipeline_embedded=False)
    holder = sqlite3.connect(url.database or "", isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(1.0, lambda: holder.execute("ROLLBACK"))
    release.start()
    try:
        with live.client() as client:
            answer = client.post("/v1/records", json=record_factory.records(5))
    finally:
        release.join()
        holder.close()
    assert answer.status_code == 200
    assert answer.json()["accepted"] == 5
    assert len(stored_records(engine)) == 5


def test_readyz_is_503_until_the_schema_is_at_head(
    make_server: MakeServer, migrated_url: str, record_factory: RecordFactory
) -> None:
    live = make_server(pipeline_embedded=False)
    assert httpx.get(f"{live.url}/readyz").json()["schema"] == head_revision()
    downgrade(migrated_url, "base")
    answer = httpx.get(f"{live.url}/readyz")
    assert answer.status_code == 503
    assert "detector db upgrade" in answer.json()["database"]
    assert httpx.get(f"{live.url}/healthz").status_code == 200  # alive, not ready
    # Writes to a schema that is not there are a retryable 503, not a 500.
    with live.client() as client:
        write = client.post("/v1/records", json=[record_factory.record()])
    assert write.status_code == 503
    upgrade(migrated_url)
    assert httpx.get(f"{live.url}/readyz").status_code == 200
