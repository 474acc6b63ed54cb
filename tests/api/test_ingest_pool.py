"""Batches validated and stored on a pool of processes answer as they do in-thread."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from detector.config import available_cores
from tests.api.conftest import MakeServer
from tests.conftest import TOKEN
from tests.support.records import RecordFactory, stored_records
from tests.support.server import LiveServer, serve_in_process

pytestmark = pytest.mark.db

NDJSON = {"Content-Type": "application/x-ndjson"}


def children(pid: int | None = None) -> set[int]:
    """The child processes of ``pid`` (this process: a server in a thread starts its
    pool here)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid or os.getpid()}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def pool_processes(pid: int) -> set[int]:
    """The children of ``pid`` that multiprocessing spawned to run Python code (not
    its resource tracker)."""
    spawned = set()
    for child in children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"multiprocessing.spawn" in command:
            spawned.add(child)
    return spawned


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def post(server: LiveServer, items: list[dict[str, Any]]) -> Any:
    body = b"\n".join(orjson.dumps(item) for item in items)
    with server.client() as client:
        return client.post("/v1/records", content=body, headers=NDJSON)


def test_concurrent_batches_on_the_pool_are_each_stored_once(
    make_server: MakeServer, engine: Engine, record_factory: RecordFactory
) -> None:
    server = make_server(ingest_processes=2)
    batches = [record_factory.records(200) for _ in range(12)]
    # Every batch sent twice, from eight clients at once: the second copy of each,
    # whichever process takes it, finds the first's keys.
    with ThreadPoolExecutor(8) as clients:
        answers = list(clients.map(lambda items: post(server, items).json(), batches * 2))
    assert all(a["rejected"] == 0 for a in answers)
    assert sum(a["accepted"] for a in answers) == 12 * 200
    assert sum(a["duplicates"] for a in answers) == 12 * 200
    stored = [r["event_id"] for r in stored_records(engine)]
    assert sorted(stored) == sorted(r["event_id"] for batch in batches for r in batch)


def test_errors_from_the_pool_name_the_record_and_the_rule(
    make_server: MakeServer, record_factory: RecordFactory
) -> None:
    server = make_server(ingest_processes=1, max_records_per_batch=10)
    good, bad = record_factory.records(2)
    bad["input_tokens"] = -5
    answer = post(server, [good, bad]).json()
    assert (answer["accepted"], answer["rejected"]) == (1, 1)
    assert answer["errors"][0]["index"] == 1
    assert answer["errors"][0]["field"] == "input_tokens"
    with server.client() as client:
        broken = client.post("/v1/records", content=b"[{", headers={"Content-Type": "text/json"})
        assert broken.status_code == 400
        assert "not valid JSON" in broken.json()["detail"]
        too_many = post(server, record_factory.records(11))
        assert too_many.status_code == 413
        assert "over the limit of 10" in too_many.json()["detail"]
        accounts = client.post(
            "/v1/accounts", json=[{"account_id": "a-1", "created_at": "2026-02-01T00:00:00Z"}]
        )
        assert accounts.json()["accepted"] == 1


def test_a_killed_pool_process_costs_one_retryable_batch(
    make_server: MakeServer, engine: Engine, record_factory: RecordFactory
) -> None:
    before = children()
    # Without the pipeline's process, the server's one other child.
    server = make_server(ingest_processes=1, pipeline_embedded=False)
    first = record_factory.records(50)
    assert post(server, first).json()["accepted"] == 50
    (process,) = children() - before
    os.kill(process, signal.SIGKILL)

    lost = record_factory.records(50)
    refused = post(server, lost)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    # The next batch gets a new pool process, and the refused one can be sent again.
    assert post(server, lost).json()["accepted"] == 50
    assert process not in children()
    stored = {r["event_id"] for r in stored_records(engine)}
    assert stored == {r["event_id"] for r in first + lost}


def serve_env(tmp_path: Path, url: str) -> dict[str, str]:
    return {
        "DETECTOR_DATABASE_URL": url,
        "DETECTOR_API_TOKENS": TOKEN,
        "DETECTOR_DATA_DIR": str(tmp_path),
        "DETECTOR_LOG_LEVEL": "warning",
        "DETECTOR_PIPELINE_EMBEDDED": "false",
    }


@pytest.mark.slow
def test_the_pool_dies_with_a_killed_server(
    tmp_path: Path, migrated_url: str, record_factory: RecordFactory
) -> None:
    with serve_in_process(serve_env(tmp_path, migrated_url)) as (live, proc):
        assert post(live, record_factory.records(10)).json()["accepted"] == 10
        pool = pool_processes(proc.pid)
        assert len(pool) == available_cores()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in pool) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(pid) for pid in pool)


@pytest.mark.slow
def test_several_server_processes_run_no_pool(
    tmp_path: Path, migrated_url: str, record_factory: RecordFactory
) -> None:
    with serve_in_process(serve_env(tmp_path, migrated_url), "--workers", "2") as (live, proc):
        assert post(live, record_factory.records(10)).json()["accepted"] == 10
        # uvicorn spawns its server processes the way the pool spawns its own.
        servers = pool_processes(proc.pid)
        assert len(servers) == 2
        assert all(not pool_processes(server) for server in servers)
