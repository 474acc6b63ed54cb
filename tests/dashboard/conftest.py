"""Fixtures of the dashboard tests: a reviewer, a live server, a signed-in client."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import Engine

from detector.config import Settings
from detector.store.db import write_transaction
from tests.dashboard.seeding import PASSWORD, add_test_reviewer
from tests.support.server import LiveServer, serve_in_thread

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(url: str, username: str = "alice", password: str = PASSWORD) -> httpx.Client:
    """A browser-like client that signed in through the form; the caller closes it."""
    client = httpx.Client(base_url=url, timeout=30, follow_redirects=False)
    page = client.get("/dashboard/signin")
    answer = client.post(
        "/dashboard/signin",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
    )
    assert answer.status_code == 303, answer.text
    return client


@pytest.fixture
def reviewer(engine: Engine) -> str:
    with write_transaction(engine) as conn:
        add_test_reviewer(conn)
    return "alice"


@pytest.fixture
def seeded(engine: Engine) -> Callable[..., None]:
    """Run a seeding function from ``tests.dashboard.seeding`` in one transaction."""

    def seed(function: Callable[..., None], *args: object, **kwargs: object) -> None:
        with write_transaction(engine) as conn:
            function(conn, *args, **kwargs)

    return seed


@pytest.fixture
def live(settings: Settings, reviewer: str) -> Iterator[LiveServer]:
    with serve_in_thread(settings) as server:
        yield server


@pytest.fixture
def browser_client(live: LiveServer) -> Iterator[httpx.Client]:
    """Signed in as ``alice`` through the sign-in form."""
    client = sign_in(live.url)
    try:
        yield client
    finally:
        client.close()
