"""The default server's pipeline: a child process of ``detector serve``, run for real.

It processes what ingest stores without being asked, opens cases, flushes on
``POST /v1/pipeline/flush``, times its windows in the server's ``/metrics``, runs at
a lower CPU priority, is started again when it
dies, leaves the lease to a ``detector worker`` that holds it, and stops with the
server: no process is left behind a SIGTERM or a SIGKILL of the server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from detector.store import cases as store
from tests.api.test_ingest_pool import alive, children, pool_processes
from tests.conftest import TOKEN
from tests.pipeline.conftest import ndjson
from tests.pipeline.traffic import Traffic
from tests.support.server import LiveServer, serve_in_process

pytestmark = [pytest.mark.db, pytest.mark.slow]

NDJSON = {"Content-Type": "application/x-ndjson"}


def serve_env(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    return {
        "DETECTOR_DATABASE_URL": url,
        "DETECTOR_API_TOKENS": TOKEN,
        "DETECTOR_DATA_DIR": str(tmp_path),
        "DETECTOR_LOG_LEVEL": "warning",
        "DETECTOR_INGEST_PROCESSES": "1",
        **extra,
    }


def lease_holder(live: LiveServer) -> int | None:
    """The process id in the live pipeline lease, if any."""
    with live.client() as client:
        worker = client.get("/v1/pipeline").json()["worker"]
    if worker is None or worker["expires_at"] < time.time():
        return None
    return int(worker["holder"].rsplit(":", 1)[1])


def pipeline_process(live: LiveServer, server: int) -> int:
    """The server's child that runs the pipeline: the one holding the lease."""
    wait_until(lambda: lease_holder(live) is not None)
    pid = lease_holder(live)
    assert pid in pool_processes(server)
    return pid


def nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def wait_until(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def send(live: LiveServer, traffic: Traffic) -> None:
    with live.client() as client:
        client.post("/v1/accounts", content=ndjson(traffic.accounts), headers=NDJSON)
        for start in range(0, len(traffic.records), 4000):
            batch = traffic.records[start : start + 4000]
            answer = client.post("/v1/records", content=ndjson(batch), headers=NDJSON)
            assert answer.json()["accepted"] == len(batch)


def processed(live: LiveServer) -> int:
    with live.client() as client:
        return int(client.get("/v1/pipeline").json()["processed"])


def windows_timed(live: LiveServer) -> float:
    with live.client() as client:
        text = client.get("/metrics").text
    (line,) = [
        x for x in text.splitlines() if x.startswith("detector_pipeline_window_seconds_count")
    ]
    return float(line.split()[-1])


def test_the_pipeline_process_opens_cases_and_stops_with_the_server(
    tmp_path: Path, migrated_url: str, engine: Engine, traffic: Traffic
) -> None:
    env = serve_env(tmp_path, migrated_url, DETECTOR_PIPELINE_CHECKPOINT_SECONDS="1")
    with serve_in_process(env) as (live, proc):
        send(live, traffic)
        pipeline = pipeline_process(live, proc.pid)
        everyone = {proc.pid, *children(proc.pid)}
        assert pipeline in everyone and len(everyone) >= 3  # the server, pool, pipeline
        assert nice(pipeline) == nice(proc.pid) + 10
        # Nobody asks: the process takes in what ingest stored.
        wait_until(lambda: processed(live) == len(traffic.records))
        with live.client() as client:
            state = client.post("/v1/pipeline/flush").json()
            assert state["processed"] == state["received"] == len(traffic.records)
            assert state["worker"]["holder"].endswith(f":{pipeline}")
            (case,) = client.get("/v1/cases", params={"status": "open"}).json()["items"]
            assert case["account_count"] == len(traffic.campaign)
            assert client.get("/readyz").status_code == 200
        # The process's window times reach the server's /metrics.
        wait_until(lambda: windows_timed(live) >= state["windows_closed"] > 0, timeout=10)

        proc.send_signal(signal.SIGTERM)
        # uvicorn, once shut down, raises the signal it caught again.
        assert proc.wait(timeout=90) == -signal.SIGTERM
        wait_until(lambda: not any(alive(pid) for pid in everyone), timeout=10)
    with engine.connect() as conn:
        lease = store.lease_holder(conn)
    assert lease is not None and lease["expires_at"] == 0.0, "the lease was released"


def test_a_killed_pipeline_process_is_started_again(
    tmp_path: Path, migrated_url: str, traffic: Traffic
) -> None:
    env = serve_env(tmp_path, migrated_url, DETECTOR_PIPELINE_LEASE_SECONDS="3")
    with serve_in_process(env) as (live, proc):
        send(live, traffic)
        first = pipeline_process(live, proc.pid)
        before = pool_processes(proc.pid)
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: bool(pool_processes(proc.pid) - before))
        # The new process waits out the killed one's lease, then flushes.
        with live.client() as client:
            answer = client.post("/v1/pipeline/flush")
            deadline = time.monotonic() + 60
            while answer.status_code in (409, 503) and time.monotonic() < deadline:
                time.sleep(0.5)
                answer = client.post("/v1/pipeline/flush")
        assert answer.json()["processed"] == len(traffic.records)
        assert pipeline_process(live, proc.pid) != first


def test_a_killed_server_takes_its_pipeline_process_with_it(
    tmp_path: Path, migrated_url: str
) -> None:
    with serve_in_process(serve_env(tmp_path, migrated_url)) as (live, proc):
        pipeline = pipeline_process(live, proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        wait_until(lambda: not alive(pipeline), timeout=10)


def test_a_worker_holding_the_lease_keeps_the_pipeline(
    tmp_path: Path, migrated_url: str, traffic: Traffic
) -> None:
    env = serve_env(tmp_path, migrated_url)
    worker = subprocess.Popen(
        [sys.executable, "-m", "detector.cli", "worker"],
        env={**os.environ, **env},
        stderr=subprocess.DEVNULL,
    )
    try:
        with serve_in_process(env) as (live, proc), live.client() as client:
            wait_until(lambda: lease_holder(live) == worker.pid)
            send(live, traffic)
            refused = client.post("/v1/pipeline/flush")
            assert refused.status_code == 409
            assert f":{worker.pid}" in refused.json()["detail"]
            # The worker, not the server's process, takes in the records.
            wait_until(lambda: processed(live) == len(traffic.records))
            assert lease_holder(live) == worker.pid
            assert len(pool_processes(proc.pid)) == 2, "the server's pipeline waits"
    finally:
        worker.terminate()
        assert worker.wait(timeout=60) == 0
