"""The sign-in throttle under concurrency, per address, and against lock-outs.

Client addresses come from ``X-Forwarded-For``, which uvicorn honours from loopback
(its default ``forwarded_allow_ips``), as it would from a proxy in front of it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import Engine, select

from detector.dashboard.routes.signin import ADDRESS_FAILURES, PAIR_FAILURES, USERNAME_FAILURES
from detector.store.db import write_transaction
from detector.store.review_models import AuditRow
from detector.store.reviewers import record_sign_in_attempt
from tests.dashboard.seeding import PASSWORD
from tests.support.server import LiveServer

pytestmark = pytest.mark.db

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def attempt(url: str, username: str, password: str, address: str) -> int:
    """One sign-in through the form from ``address``; the answer's status."""
    headers = {"X-Forwarded-For": address}
    with httpx.Client(base_url=url, timeout=60, headers=headers) as browser:
        page = browser.get("/dashboard/signin")
        token = _CSRF.search(page.text)
        assert token is not None
        data = {"username": username, "password": password, "csrf_token": token.group(1)}
        return browser.post("/dashboard/signin", data=data).status_code


@pytest.fixture
def url(live: LiveServer) -> Iterator[str]:
    yield live.url


def test_parallel_guesses_reach_the_password_check_at_most_the_limit(
    url: str, engine: Engine
) -> None:
    """100 wrong attempts at once on one name from one address: however they race,
    at most PAIR_FAILURES of them are checked (401); every other one is 429."""
    headers = {"X-Forwarded-For": "203.0.113.7"}
    limits = httpx.Limits(max_connections=100)
    with httpx.Client(base_url=url, timeout=60, headers=headers, limits=limits) as browser:
        token = _CSRF.search(browser.get("/dashboard/signin").text)
        assert token is not None

        def guess(number: int) -> int:
            data = {
                "username": "alice",
                "password": f"wrong-{number}",
                "csrf_token": token.group(1),
            }
            return browser.post("/dashboard/signin", data=data).status_code

        with ThreadPoolExecutor(max_workers=100) as pool:
            codes = Counter(pool.map(guess, range(100)))
    assert set(codes) <= {401, 429}
    assert codes[401] <= PAIR_FAILURES
    assert codes[401] + codes[429] == 100
    with engine.connect() as conn:
        actions = Counter(
            conn.execute(select(AuditRow.action).where(AuditRow.actor == "alice")).scalars()
        )
    assert actions == {"signin_failed": codes[401], "signin_throttled": codes[429]}
    # Racing attempts may have counted each other out; one at a time, the rest of the
    # allowance is spent and no more...
    checked = codes[401]
    while attempt(url, "alice", "wrong-again", "203.0.113.7") == 401:
        checked += 1
        assert checked <= PAIR_FAILURES
    assert checked == PAIR_FAILURES
    # ...then the right password from there is refused too until the window passes...
    assert attempt(url, "alice", PASSWORD, "203.0.113.7") == 429
    # ...but not from another address.
    assert attempt(url, "alice", PASSWORD, "198.51.100.20") == 303


def test_one_address_spraying_names_is_stopped(url: str, engine: Engine) -> None:
    # All but one of the address's allowance, spent on other names (stored directly:
    # each attempt over HTTP costs a scrypt).
    now = datetime.now(UTC)
    with write_transaction(engine) as conn:
        for i in range(ADDRESS_FAILURES - 1):
            record_sign_in_attempt(conn, username=f"user{i}", address="203.0.113.9", now=now)
    assert attempt(url, "mallory", "wrong-password", "203.0.113.9") == 401
    assert attempt(url, "trent", "wrong-password", "203.0.113.9") == 429
    assert attempt(url, "alice", PASSWORD, "203.0.113.9") == 429
    # Another address is not held back by it.
    assert attempt(url, "alice", PASSWORD, "198.51.100.21") == 303


def test_guesses_from_many_addresses_do_not_lock_a_reviewer_out_of_a_known_address(
    url: str, engine: Engine
) -> None:
    # alice works from 198.51.100.30.
    assert attempt(url, "alice", PASSWORD, "198.51.100.30") == 303
    # A guesser spreads more than the name's limit of failures over many addresses.
    now = datetime.now(UTC)
    with write_transaction(engine) as conn:
        for i in range(USERNAME_FAILURES):
            record_sign_in_attempt(conn, username="alice", address=f"192.0.2.{i % 250}", now=now)
    # A fresh address is refused for alice now, whatever the password...
    assert attempt(url, "alice", PASSWORD, "198.51.100.99") == 429
    assert attempt(url, "alice", "wrong-again", "198.51.100.98") == 429
    # ...but alice still signs in from where she signed in before.
    assert attempt(url, "alice", PASSWORD, "198.51.100.30") == 303


def test_a_nul_in_the_name_is_a_failed_attempt_audited_escaped(url: str, engine: Engine) -> None:
    assert attempt(url, "al\x00ice", "wrong-password", "203.0.113.40") == 401
    with engine.connect() as conn:
        actors = conn.execute(
            select(AuditRow.actor).where(AuditRow.action == "signin_failed")
        ).scalars()
        assert "al\\x00ice" in list(actors)


def test_attempts_are_audited_with_their_address(url: str, engine: Engine) -> None:
    assert attempt(url, "alice", "wrong-password", "203.0.113.50") == 401
    assert attempt(url, "alice", PASSWORD, "203.0.113.50") == 303
    with engine.connect() as conn:
        rows = conn.execute(
            select(AuditRow.action, AuditRow.note)
            .where(AuditRow.actor == "alice")
            .order_by(AuditRow.id)
        ).all()
    assert [tuple(row) for row in rows][-2:] == [
        ("signin_failed", "203.0.113.50"),
        ("signin", "203.0.113.50"),
    ]
