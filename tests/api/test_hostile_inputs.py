"""The hostile-input table (tests/support/hostile.py) against one live server.

Each body is answered with a 2xx or a 4xx, within ten seconds, on a connection that
stays usable; afterwards the data accepted before the table is still there, unchanged.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from detector.config import Settings
from detector.store.db import make_engine
from tests.api.conftest import scratch_database
from tests.conftest import TOKEN
from tests.ecosystem.stored import stored_records
from tests.support.hostile import START_NS, Hostile, all_cases, genai_span, otlp_json
from tests.support.records import RecordFactory
from tests.support.server import LiveServer, serve_in_thread

pytestmark = pytest.mark.db

CASES = all_cases()
# A request that takes longer is a hang as far as any client's timeout is concerned.
PATIENCE = 10.0


@pytest.fixture(scope="module")
def hostile_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Engine]]:
    directory = tmp_path_factory.mktemp("hostile")
    with scratch_database(directory, request.config.getoption("--database-url")) as url:
        settings = Settings.model_validate(
            {
                "data_dir": directory,
                "database_url": url,
                "api_tokens": [TOKEN],
                "pipeline_embedded": False,
                "ingest_processes": 0,
            }
        )
        engine = make_engine(url)
        with serve_in_thread(settings) as live:
            yield live, engine
        engine.dispose()


@pytest.fixture(scope="module")
def client(hostile_server: tuple[LiveServer, Engine]) -> Iterator[httpx.Client]:
    live, _ = hostile_server
    with httpx.Client(
        base_url=live.url, headers={"Authorization": f"Bearer {live.token}"}, timeout=PATIENCE
    ) as client:
        yield client


@pytest.fixture(scope="module")
def before(hostile_server: tuple[LiveServer, Engine], client: httpx.Client) -> dict[str, Any]:
    """Data accepted before any hostile body: records, accounts, a span, a payload."""
    _, engine = hostile_server
    factory = RecordFactory(seed=7)
    assert client.post("/v1/records", json=factory.records(20)).json()["accepted"] == 20
    assert client.post("/v1/accounts", json=factory.accounts(5)).json()["accepted"] == 5
    span = otlp_json([genai_span("9" * 16)])
    assert (
        client.post(
            "/v1/traces", content=span, headers={"content-type": "application/json"}
        ).status_code
        == 200
    )
    payload = {
        "id": "before-1",
        "model": "m",
        "startTime": START_NS / 1e9,
        "metadata": {"user_api_key_team_id": "team-before"},
    }
    assert client.post("/v1/litellm", json=[payload]).json()["accepted"] == 1
    stored = stored_records(engine)
    assert len(stored) == 22
    return stored


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_body_is_answered_with_a_4xx_or_2xx(
    client: httpx.Client, before: dict[str, Any], case: Hostile
) -> None:
    started = time.monotonic()
    answer = client.request(case.method, case.path, content=case.body, headers=case.headers)
    elapsed = time.monotonic() - started
    assert answer.status_code < 500, answer.text[:500]
    assert elapsed < PATIENCE
    assert answer.headers["x-content-type-options"] == "nosniff"
    if answer.status_code >= 400 and "json" in answer.headers.get("content-type", ""):
        # The answer names what is wrong and never echoes a long input back.
        assert len(answer.content) < 20_000
        assert answer.json().get("detail") or answer.json().get("message")
    # The same connection serves the next request.
    assert client.get("/healthz").status_code == 200


def _signin_form(live: LiveServer) -> tuple[httpx.Client, str]:
    browser = httpx.Client(base_url=live.url, timeout=PATIENCE)
    page = browser.get("/dashboard/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return browser, token.group(1)


SIGNIN: dict[str, dict[str, Any]] = {
    "upload-as-username": {"files": {"username": ("name.txt", b"alice")}},
    "upload-as-password": {"files": {"password": ("pw.txt", b"x" * 100)}},
    "upload-as-csrf": {"files": {"csrf_token": ("c.txt", b"x")}, "csrf": False},
    "nul-in-username": {"data": {"username": "al\x00ice"}},
    "surrogate-escape-in-username": {"content": b"username=%ED%A0%80&password=x"},
    "username-too-long": {"data": {"username": "u" * 5000}},
    "password-too-long": {"data": {"username": "alice", "password": "p" * 5000}},
    "upload-over-the-body-limit": {"files": {"username": ("big", b"x" * 400_000)}},
    "many-fields": {"content": "&".join(f"f{i}=x" for i in range(5000)).encode()},
}


@pytest.mark.parametrize("name", list(SIGNIN))
def test_hostile_signin_form_is_a_4xx(
    hostile_server: tuple[LiveServer, Engine], before: dict[str, Any], name: str
) -> None:
    live, _ = hostile_server
    case = dict(SIGNIN[name])
    browser, csrf = _signin_form(live)
    try:
        data = {"password": "wrong-password-1", **case.pop("data", {})}
        if case.pop("csrf", True):
            data["csrf_token"] = csrf
        if "content" in case:
            answer = browser.post(
                "/dashboard/signin",
                content=case["content"] + f"&csrf_token={csrf}".encode(),
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
        else:
            answer = browser.post("/dashboard/signin", data=data, files=case.get("files"))
        assert 400 <= answer.status_code < 500, answer.text[:500]
        # Nothing the sender typed comes back, the password least of all.
        assert "ppppp" not in answer.text and "uuuuu" not in answer.text
        assert answer.headers["x-content-type-options"] == "nosniff"
    finally:
        browser.close()


def test_the_data_accepted_before_is_intact(
    hostile_server: tuple[LiveServer, Engine], client: httpx.Client, before: dict[str, Any]
) -> None:
    _, engine = hostile_server
    after = stored_records(engine)
    assert {key: after[key] for key in before} == before
    # The store still takes a batch.
    fresh = RecordFactory(seed=8).records(3)
    assert client.post("/v1/records", json=fresh).json()["accepted"] == 3


def test_the_table_is_large_and_its_ids_are_unique() -> None:
    assert len(CASES) + len(SIGNIN) >= 200
    assert len({case.id for case in CASES}) == len(CASES)
