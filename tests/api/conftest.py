"""Servers with non-default settings, for the tests of limits and failures.

``make_server`` starts servers on the test's own database. ``shared_server`` and
``small_server`` are started once per module, on a scratch database of their own, for
tests of refusals (401, 413, 415, 400) that need a server but not a fresh store:
starting one per test costs a migration each, which on PostgreSQL is most of the time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from detector.config import Settings
from detector.store.db import make_engine
from detector.store.migrate import upgrade
from tests.conftest import TOKEN
from tests.support.server import LiveServer, serve_in_thread

MakeServer = Callable[..., LiveServer]

SMALL_BODY = 4096
"""``small_server`` takes at most this many bytes of body and 5 records a batch."""


@pytest.fixture
def make_server(make_settings: Callable[..., Settings]) -> Iterator[MakeServer]:
    """Start a server on the test database with settings overridden; stopped at teardown.

    ``ready_path="/healthz"`` starts one whose store is not ready.
    """
    with ExitStack() as stack:

        def make(*, ready_path: str = "/readyz", **overrides: object) -> LiveServer:
            settings = make_settings(**overrides)
            return stack.enter_context(serve_in_thread(settings, ready_path=ready_path))

        yield make


@contextmanager
def scratch_database(directory: Path, base: str | None) -> Iterator[str]:
    """A migrated database of its own: a SQLite file, or a schema on ``base``."""
    if not base:
        url = f"sqlite:///{directory / 'detector.db'}"
        upgrade(url)
        yield url
        return
    schema = f"m_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def module_server(
    request: pytest.FixtureRequest, directory: Path, **overrides: object
) -> Iterator[LiveServer]:
    base = request.config.getoption("--database-url")
    with scratch_database(directory, base) as url:
        values: dict[str, object] = {
            "data_dir": directory,
            "database_url": url,
            "api_tokens": [TOKEN],
            "pipeline_embedded": False,
            **overrides,
        }
        with serve_in_thread(Settings.model_validate(values)) as live:
            yield live


@pytest.fixture(scope="module")
def shared_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """Default settings; for tests that only send batches it must refuse."""
    with module_server(request, tmp_path_factory.mktemp("shared")) as live:
        yield live


@pytest.fixture(scope="module")
def small_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """At most ``SMALL_BODY`` bytes of body and 5 records a batch."""
    with module_server(
        request,
        tmp_path_factory.mktemp("small"),
        max_body_bytes=SMALL_BODY,
        max_records_per_batch=5,
    ) as live:
        yield live
