"""Engines for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from detector.errors import StoreUnavailableError


def make_engine(url: str, *, sqlite_busy_timeout: float = 30.0, **kwargs: Any) -> Engine:
    """An engine; for SQLite with WAL, full fsync on commit and write-locking transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        with _gates_lock:
            gate = _gates.get(parsed.database)
            if gate is None or gate.timeout != sqlite_busy_timeout:
                _gates[parsed.database] = _WriterGate(parsed.database, sqlite_busy_timeout)
    engine = create_engine(url, connect_args={"timeout": sqlite_busy_timeout}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk (WAL fsynced) before it returns; the contract
        # promises that an answered batch survives a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(sqlite_busy_timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock up front, so a read-then-write transaction never
        # fails half way with SQLITE_BUSY when another writer got there first.
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class _WriterGate:
    """Queues this machine's SQLite writers (threads and processes) on a lock file.

    SQLite's own busy handler sleeps in steps of up to 100 ms while another writer
    holds the lock, so concurrent batches idle instead of queueing; a thread lock and
    an flock(2) on ``<database>.lock`` hand the turn over at once. Writers from
    outside the service (another tool holding the database) still meet SQLite's lock.
    """

    def __init__(self, database: str, timeout: float) -> None:
        self.path = f"{database}.lock"
        self.timeout = timeout
        self._thread_lock = threading.Lock()

    @contextmanager
    def turn(self) -> Iterator[None]:
        if not self._thread_lock.acquire(timeout=self.timeout):
            raise StoreUnavailableError("store unavailable: writers queued past the timeout")
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                self._lock_file(fd)
                yield
            finally:
                os.close(fd)  # closing the descriptor releases the flock
        finally:
            self._thread_lock.release()

    def _lock_file(self, fd: int) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreUnavailableError(
                        "store unavailable: another writer held the lock past the timeout"
                    ) from None
                time.sleep(0.0005)


_gates: dict[str, _WriterGate] = {}
_gates_lock = threading.Lock()


def _gate(engine: Engine) -> _WriterGate | None:
    """The gate of a SQLite file engine made by ``make_engine``, else None."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database:
        return None
    with _gates_lock:
        return _gates.get(database)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One unit of work that writes; store failures become ``StoreUnavailableError``."""
    gate = _gate(engine)
    if gate is None:
        with _write(engine) as conn:
            yield conn
        return
    with gate.turn(), _write(engine) as conn:
        yield conn


@contextmanager
def _write(engine: Engine) -> Iterator[Connection]:
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                yield conn
    except sqlite3.OperationalError as exc:
        # Raised by statements run on the driver's own cursor (the key insert).
        raise StoreUnavailableError(f"store unavailable: {type(exc).__name__}") from exc
    except DBAPIError as exc:
        # Unreachable server, lost connection, SQLite locked past busy_timeout, or a
        # schema not yet migrated (PostgreSQL's undefined_table, SQLSTATE 42P01; SQLite
        # says so with an OperationalError): nothing was committed, a retry is safe.
        missing_table = getattr(exc.orig, "sqlstate", None) == "42P01"
        if isinstance(exc, OperationalError) or exc.connection_invalidated or missing_table:
            raise StoreUnavailableError(f"store unavailable: {type(exc.orig).__name__}") from exc
        raise
