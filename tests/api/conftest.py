"""Servers with non-default settings, for the tests of limits and failures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from detector.config import Settings
from tests.support.server import LiveServer, serve_in_thread

MakeServer = Callable[..., LiveServer]


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
