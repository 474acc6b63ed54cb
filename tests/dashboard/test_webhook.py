"""The decision webhook: signed, retried until the receiver takes it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest
from sqlalchemy import Engine, select

from detector.config import Settings
from detector.enforcement.signing import HEADER, sign, verify
from detector.enforcement.webhook import backoff
from detector.store.review_models import WebhookDeliveryRow
from tests.dashboard.seeding import seed_case
from tests.support.server import serve_in_thread

SECRET = "whsec-test-0123456789"


class Receiver:
    """A webhook receiver on loopback that fails its first ``fail`` requests."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                status = 503 if len(receiver.received) <= receiver.fail else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(fail=2) as running:
        yield running


def test_signatures_verify_and_refuse_tampering_and_replay() -> None:
    body = b'{"case_id":"c1"}'
    header = sign(SECRET, 1_000_000, body)
    assert verify(SECRET, header, body, now=1_000_010)
    assert not verify(SECRET, header, body + b" ", now=1_000_010)
    assert not verify("other-secret", header, body, now=1_000_010)
    assert not verify(SECRET, header, body, now=1_000_000 + 301)
    assert not verify(SECRET, "garbage", body, now=1_000_000)


def test_backoff_doubles_up_to_its_cap() -> None:
    assert [backoff(n, 1.0).total_seconds() for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff(30, 1.0).total_seconds() == 300


@pytest.mark.db
def test_a_decision_is_delivered_signed_after_two_failures(
    make_settings: Callable[..., Settings],
    engine: Engine,
    seeded: Callable[..., None],
    receiver: Receiver,
) -> None:
    seeded(seed_case, "c1", score=0.9, account_ids=["a1", "a2"])
    settings = make_settings(
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        webhook_backoff_seconds=0.05,
        webhook_max_attempts=5,
    )
    with serve_in_thread(settings) as live, live.client() as client:
        answer = client.post("/v1/cases/c1/decisions", json={"action": "block", "note": "n"})
        assert answer.status_code == 201
        deadline = time.monotonic() + 20
        while len(receiver.received) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        # Let the worker record the delivery.
        time.sleep(0.3)
    assert len(receiver.received) == 3
    deliveries = {headers["X-Detector-Delivery"] for headers, _ in receiver.received}
    assert len(deliveries) == 1  # one delivery, retried: receivers dedupe on this id
    headers, body = receiver.received[-1]
    assert verify(SECRET, headers[HEADER], body, now=time.time())
    payload = orjson.loads(body)
    assert payload["case_id"] == "c1" and payload["action"] == "block"
    assert payload["account_ids"] == ["a1", "a2"] and payload["actor"] == "api"
    with engine.connect() as conn:
        row = conn.execute(select(WebhookDeliveryRow.__table__)).one()
    assert row.state == "delivered" and row.attempts == 3
