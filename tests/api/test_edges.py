"""The API's edges: the store down on every route, body limits while reading, the
OTLP span limit before any mapping, and the answers' headers."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from detector.api.guard import Guard
from detector.observability.middleware import RequestContextMiddleware
from tests.api.conftest import MakeServer
from tests.support.hostile import genai_span
from tests.support.server import LiveServer, free_port, wait_ready

pytestmark = pytest.mark.db


def _on_one_connection(url: str, requests: list[bytes]) -> list[bytes]:
    """Send each raw request on one TCP connection, reading each answer in turn; a
    connection the server closed shows as a missing answer."""
    host, port = url.removeprefix("http://").split(":")
    answers = []
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        for raw in requests:
            try:
                sock.sendall(raw)
                answers.append(_read_answer(sock))
            except (ConnectionError, TimeoutError):
                break
    return answers


def _read_answer(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        body += chunk
    return head + b"\r\n\r\n" + body


def _request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: test", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.fixture
def store_down(make_server: MakeServer) -> Iterator[LiveServer]:
    # A PostgreSQL URL on a loopback port where nothing listens.
    dead = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test?connect_timeout=3"
    yield make_server(database_url=dead, pipeline_embedded=False, ready_path="/healthz")


def test_every_route_answers_503_while_the_store_is_down_and_keeps_the_connection(
    store_down: LiveServer,
) -> None:
    auth = {"Authorization": f"Bearer {store_down.token}"}
    json_body = {**auth, "Content-Type": "application/json"}
    session = {"Cookie": "detector_session=not-a-live-one"}
    requests = [
        _request("GET", "/v1/pipeline", auth),
        _request("GET", "/v1/cases", auth),
        _request("GET", "/v1/cases/C1", auth),
        _request("GET", "/v1/blocklist", auth),
        _request("POST", "/v1/pipeline/flush", auth),
        _request("POST", "/v1/cases/C1/decisions", json_body, b'{"action":"accept"}'),
        _request("POST", "/v1/records", json_body, b"[]"),
        _request("GET", "/dashboard", session),
        _request("GET", "/dashboard/cases/C1", session),
        _request("GET", "/readyz", {}),
    ]
    answers = _on_one_connection(store_down.url, requests)
    assert len(answers) == len(requests), answers
    for raw, answer in zip(requests, answers, strict=True):
        status = answer.split(b"\r\n", 1)[0]
        assert b" 503 " in status + b" ", (raw.split(b"\r\n", 1)[0], status)
        if not raw.startswith(b"GET /readyz"):
            assert b"retry-after: 1" in answer.lower()


def test_the_sign_in_answers_503_while_the_store_is_down(store_down: LiveServer) -> None:
    with httpx.Client(base_url=store_down.url, timeout=20) as browser:
        page = browser.get("/dashboard/signin")
        assert page.status_code == 200
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        answer = browser.post(
            "/dashboard/signin",
            data={"username": "alice", "password": "whatever-it-is", "csrf_token": token},
        )
        assert answer.status_code == 503, answer.text
        assert browser.get("/healthz").status_code == 200


def _streamed(size: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    yield b'{"action":"accept","note":"'
    for _ in range(size // chunk):
        yield b"n" * chunk
    yield b'"}'


@pytest.fixture
def limited(make_server: MakeServer) -> LiveServer:
    """Default body limits, 5 records (spans) a batch."""
    return make_server(pipeline_embedded=False, max_records_per_batch=5)


def test_a_huge_decision_is_refused_while_it_is_read(limited: LiveServer) -> None:
    """Chunked (no Content-Length): the server stops at its limit, answers 413, and
    does not echo the note."""
    with limited.client() as client:
        started = time.monotonic()
        answer = client.post(
            "/v1/cases/C1/decisions",
            content=_streamed(64 << 20),
            headers={"Content-Type": "application/json"},
        )
        assert answer.status_code == 413, answer.text[:200]
        assert "limit" in answer.json()["detail"] and "nnnn" not in answer.text
        assert time.monotonic() - started < 10
        # A declared length over the limit is refused before a byte is read.
        declared = client.post(
            "/v1/cases/C1/decisions",
            content=b"x" * 300_000,
            headers={"Content-Type": "application/json"},
        )
        assert declared.status_code == 413


def test_a_huge_upload_to_the_sign_in_form_is_refused(limited: LiveServer) -> None:
    with httpx.Client(base_url=limited.url, timeout=30) as browser:
        token = browser.get("/dashboard/signin").text.split('name="csrf_token" value="')[1]
        answer = browser.post(
            "/dashboard/signin",
            data={"csrf_token": token.split('"', 1)[0]},
            files={"username": ("big.bin", b"x" * (2 << 20))},
        )
        assert answer.status_code == 413


def test_an_otlp_request_over_the_span_limit_is_refused_before_mapping(
    limited: LiveServer,
) -> None:
    """The server takes 5 records a batch: six spans are refused whole (413 in
    OTLP's form), quickly, whatever the spans hold."""
    spans = [genai_span(f"{i + 1:016x}") for i in range(6)]
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}).encode()
    with limited.client() as client:
        answer = client.post(
            "/v1/traces", content=body, headers={"Content-Type": "application/json"}
        )
    assert answer.status_code == 413
    assert "spans: 6 in one request is over the limit of 5" in answer.json()["message"]


def test_every_answer_says_nosniff_and_carries_its_request_id(limited: LiveServer) -> None:
    with limited.client() as client:
        for path in ("/healthz", "/readyz", "/v1/cases", "/v1/pipeline", "/metrics", "/nowhere"):
            answer = client.get(path, headers={"X-Request-ID": "req-edge-1"})
            assert answer.headers["x-content-type-options"] == "nosniff", path
            assert answer.headers["x-request-id"] == "req-edge-1"


def test_an_unexpected_error_is_a_500_naming_the_request_id_on_a_kept_connection() -> None:
    """The guard and the request-id middleware as the app stacks them, around a route
    that fails: the client gets a JSON 500 with the id, and its connection stays."""
    app = FastAPI()

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_middleware(Guard, limit=1024, own_limit=frozenset())
    app.add_middleware(RequestContextMiddleware)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, path="/docs")
        get = _request("GET", "/boom", {"X-Request-ID": "req-boom-1"})
        answers = _on_one_connection(url, [get, get])
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert len(answers) == 2
    for head in answers:
        assert head.startswith(b"HTTP/1.1 500 ")
        assert b"x-request-id: req-boom-1" in head.lower()
        assert b"x-content-type-options: nosniff" in head.lower()
        body = json.loads(head.split(b"\r\n\r\n", 1)[1])
        assert body["request_id"] == "req-boom-1" and "req-boom-1" in body["detail"]
