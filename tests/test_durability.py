"""An answered batch survives ``kill -9`` of the server the next instant (CONTRACT §1).

A real ``detector serve`` process on loopback takes batches from two clients posting
without pause; it is killed with SIGKILL mid-stream and restarted on the same
database. Every record that got a 200 must be there, none twice; a batch whose answer
was lost is either wholly stored or not at all, and its retry is counted right.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import Engine

from tests.conftest import TOKEN
from tests.support.records import RecordFactory, stored_records
from tests.support.server import LiveServer, serve_in_process

pytestmark = [pytest.mark.db, pytest.mark.slow]

BATCHES = 80
PER_BATCH = 400
KILL_AFTER = 12  # answered batches before the kill
CLIENTS = 2
NDJSON = {"Content-Type": "application/x-ndjson"}


class Stream:
    """Clients that post the batches in order until the server goes away."""

    def __init__(self, server: LiveServer, bodies: list[bytes]) -> None:
        self.server = server
        self.bodies = bodies
        self.outcome: dict[int, str] = {}  # batch -> "ok" | "unknown" | "refused <status>"
        self._next = 0
        self._lock = threading.Lock()
        self.answered = threading.Semaphore(0)

    def _take(self) -> int | None:
        with self._lock:
            if self._next == len(self.bodies):
                return None
            self._next += 1
            return self._next - 1

    def client(self) -> None:
        with self.server.client() as client:
            while (index := self._take()) is not None:
                try:
                    answer = client.post("/v1/records", content=self.bodies[index], headers=NDJSON)
                except httpx.TransportError:
                    self.outcome[index] = "unknown"  # sent; the answer never came
                    return
                if answer.status_code != 200:
                    self.outcome[index] = f"refused {answer.status_code}"
                    return
                assert answer.json()["accepted"] == PER_BATCH
                self.outcome[index] = "ok"
                self.answered.release()


def test_kill_9_mid_stream_loses_no_answered_record(
    tmp_path: Any, migrated_url: str, engine: Engine, record_factory: RecordFactory
) -> None:
    batches = [record_factory.records(PER_BATCH) for _ in range(BATCHES)]
    ids = [[r["event_id"] for r in batch] for batch in batches]
    bodies = [b"\n".join(orjson.dumps(r) for r in batch) for batch in batches]
    env = {
        "DETECTOR_DATABASE_URL": migrated_url,
        "DETECTOR_API_TOKENS": TOKEN,
        "DETECTOR_DATA_DIR": str(tmp_path),
        "DETECTOR_LOG_LEVEL": "warning",
    }

    with serve_in_process(env) as (live, proc):
        stream = Stream(live, bodies)
        clients = [threading.Thread(target=stream.client) for _ in range(CLIENTS)]
        for thread in clients:
            thread.start()
        for _ in range(KILL_AFTER):
            assert stream.answered.acquire(timeout=60), "the server stopped answering"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        for thread in clients:
            thread.join(timeout=60)
    assert not any(outcome.startswith("refused") for outcome in stream.outcome.values())
    answered = [i for i, outcome in stream.outcome.items() if outcome == "ok"]
    in_flight = [i for i, outcome in stream.outcome.items() if outcome == "unknown"]
    assert len(answered) >= KILL_AFTER
    assert len(answered) < BATCHES, "the stream ended before the kill"

    # The database as the killed server left it.
    stored = [r["event_id"] for r in stored_records(engine)]
    assert len(stored) == len(set(stored)), "a record was stored twice"
    kept = set(stored)
    for index in answered:
        assert kept.issuperset(ids[index]), f"answered batch {index} lost records"
    for index in in_flight:
        present = kept.intersection(ids[index])
        assert len(present) in (0, PER_BATCH), f"batch {index} half stored"
    sent = {event_id for index in stream.outcome for event_id in ids[index]}
    assert kept <= sent

    # Restart on the same database and retry what was never answered.
    time.sleep(0.1)
    with serve_in_process(env) as (live, _), live.client() as client:
        for index in in_flight:
            result = client.post("/v1/records", content=bodies[index], headers=NDJSON).json()
            was_stored = kept.issuperset(ids[index])
            expected = (0, PER_BATCH) if was_stored else (PER_BATCH, 0)
            assert (result["accepted"], result["duplicates"]) == expected
        result = client.post("/v1/records", content=bodies[answered[0]], headers=NDJSON).json()
        assert (result["accepted"], result["duplicates"]) == (0, PER_BATCH)

    final = [r["event_id"] for r in stored_records(engine)]
    assert len(final) == len(set(final))
    assert set(final) == {e for index in answered + in_flight for e in ids[index]}
