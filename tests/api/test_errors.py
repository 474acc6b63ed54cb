"""Every refusal of a whole batch: 401, 413, 415 and 400 (CONTRACT §1)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import httpx
import orjson
import pytest

from tests.api.conftest import SMALL_BODY, MakeServer
from tests.support.records import RecordFactory, encode
from tests.support.server import LiveServer

pytestmark = pytest.mark.db

ENDPOINTS = ["/v1/records", "/v1/accounts"]


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no-header"),
        pytest.param("Bearer wrong-token", id="wrong-token"),
        pytest.param("Bearer", id="scheme-without-token"),
        pytest.param("Basic dGVzdC10b2tlbi0wMTIzNDU2Nzg5Og==", id="basic-scheme"),
        pytest.param("test-token-0123456789", id="token-without-scheme"),
        pytest.param("Token test-token-0123456789", id="other-scheme-right-token"),
    ],
)
def test_writes_without_a_valid_bearer_token_are_refused(
    shared_server: LiveServer, record_factory: RecordFactory, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for path in ENDPOINTS:
        answer = httpx.post(
            f"{shared_server.url}{path}", json=record_factory.records(2), headers=headers
        )
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == "Bearer"
        assert "bearer token" in answer.json()["detail"]
    assert_nothing_stored(shared_server)


def assert_nothing_stored(live: LiveServer) -> None:
    """Nothing sent to the shared server may ever reach its store."""
    with live.client() as client:
        assert client.get("/v1/pipeline").json()["segments"] == 0


def test_reads_need_a_token_but_health_does_not(shared_server: LiveServer) -> None:
    assert httpx.get(f"{shared_server.url}/v1/pipeline").status_code == 401
    assert httpx.get(f"{shared_server.url}/healthz").status_code == 200
    assert httpx.get(f"{shared_server.url}/readyz").status_code == 200


def test_bearer_scheme_is_case_insensitive(shared_server: LiveServer) -> None:
    headers = {"Authorization": f"bearer {shared_server.token}"}
    assert httpx.get(f"{shared_server.url}/v1/pipeline", headers=headers).status_code == 200


def test_any_configured_token_is_accepted(make_server: MakeServer) -> None:
    live = make_server(api_tokens=["first-token-aaaaaaaa", "second-token-bbbbbbb"])
    for token in ("first-token-aaaaaaaa", "second-token-bbbbbbb"):
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{live.url}/v1/pipeline", headers=headers).status_code == 200


def test_without_configured_tokens_every_write_is_refused(
    make_server: MakeServer, record_factory: RecordFactory
) -> None:
    # serve_in_thread needs a token for its client; the server itself has none.
    live = make_server(api_tokens=[])
    for token in ("none", "anything"):
        answer = httpx.post(
            f"{live.url}/v1/records",
            json=record_factory.records(1),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 401


LIMIT = SMALL_BODY


def _over_limit(factory: RecordFactory) -> list[dict[str, object]]:
    records = factory.records(4, attributes={"pad": "x" * 1000})
    assert len(orjson.dumps(records)) > LIMIT
    return records


@pytest.mark.parametrize("path", ENDPOINTS)
def test_body_over_the_limit_is_413(
    small_server: LiveServer, record_factory: RecordFactory, path: str
) -> None:
    body, headers = encode(_over_limit(record_factory), "array")
    with small_server.client() as client:
        answer = client.post(path, content=body, headers=headers)
    assert answer.status_code == 413
    assert "body" in answer.json()["detail"]
    assert str(LIMIT) in answer.json()["detail"]


def test_chunked_body_over_the_limit_is_413(
    small_server: LiveServer, record_factory: RecordFactory
) -> None:
    """Without a Content-Length the limit is enforced while the body streams in."""
    body, headers = encode(_over_limit(record_factory), "ndjson")

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 512):
            yield body[start : start + 512]

    with small_server.client() as client:
        answer = client.post("/v1/records", content=chunks(), headers=headers)
    assert answer.status_code == 413
    assert "over the limit" in answer.json()["detail"]


def test_gzip_body_that_expands_over_the_limit_is_413(
    small_server: LiveServer, record_factory: RecordFactory
) -> None:
    body, headers = encode(_over_limit(record_factory), "array", gzipped=True)
    assert len(body) < LIMIT  # small on the wire, too big once inflated
    with small_server.client() as client:
        answer = client.post("/v1/records", content=body, headers=headers)
    assert answer.status_code == 413
    assert "decompressed" in answer.json()["detail"]


def test_gzip_bomb_is_413(small_server: LiveServer) -> None:
    """Under 4 KiB on the wire that would inflate to 3 MiB is refused at the limit."""
    bomb = gzip.compress(b"[" + b" " * (3 << 20) + b"]", compresslevel=9)
    assert len(bomb) < LIMIT
    with small_server.client() as client:
        answer = client.post(
            "/v1/records",
            content=bomb,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
    assert answer.status_code == 413
    assert f"over the limit of {LIMIT} bytes once decompressed" in answer.json()["detail"]


@pytest.mark.parametrize("form", ["array", "object", "ndjson"])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_too_many_records_in_a_batch_is_413(
    small_server: LiveServer, record_factory: RecordFactory, form: str, path: str
) -> None:
    items = record_factory.records(6) if path == "/v1/records" else record_factory.accounts(6)
    for number, item in enumerate(items):  # keep the body under the byte limit
        for name in ("tool_names", "user_agent", "attributes", "finish_reason", "org_id"):
            item.pop(name, None)
        if "event_id" in item:  # ids of their own on this module's shared store
            item["event_id"] = f"limit-{form}-{number}"
    body, headers = encode(items, form)  # type: ignore[arg-type]
    assert len(body) < LIMIT
    with small_server.client() as client:
        answer = client.post(path, content=body, headers=headers)
        assert answer.status_code == 413
        assert answer.json()["detail"].startswith("records: 6 in one batch is over the limit of 5")
        # At the limit, the batch is taken.
        body, headers = encode(items[:5], form)  # type: ignore[arg-type]
        assert client.post(path, content=body, headers=headers).json()["accepted"] == 5


def test_limit_holds_with_bad_records_in_the_batch(
    small_server: LiveServer, record_factory: RecordFactory
) -> None:
    """The per-record path (taken when a record is bad) counts records too."""
    items = [{"event_id": f"e{i}", "ts_start": "bad"} for i in range(6)]
    with small_server.client() as client:
        for form in ("array", "object", "ndjson"):
            body, headers = encode(items, form)
            assert client.post("/v1/records", content=body, headers=headers).status_code == 413


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [
        pytest.param("text/plain", None, id="text-plain"),
        pytest.param("application/xml", None, id="xml"),
        pytest.param("application/x-www-form-urlencoded", None, id="form"),
        pytest.param("multipart/form-data; boundary=x", None, id="multipart"),
        pytest.param("application/json", "br", id="brotli"),
        pytest.param("application/json", "deflate", id="deflate"),
        pytest.param("application/json", "zstd", id="zstd"),
    ],
)
def test_unsupported_media_is_415(
    shared_server: LiveServer,
    record_factory: RecordFactory,
    content_type: str,
    encoding: str | None,
) -> None:
    headers = {"Content-Type": content_type}
    if encoding:
        headers["Content-Encoding"] = encoding
    body = orjson.dumps(record_factory.records(1))
    with shared_server.client() as client:
        for path in ENDPOINTS:
            answer = client.post(path, content=body, headers=headers)
            assert answer.status_code == 415
            detail = answer.json()["detail"]
            assert ("Content-Encoding" if encoding else "Content-Type") in detail
            assert (encoding or content_type.split(";")[0]) in detail
    assert_nothing_stored(shared_server)


@pytest.mark.parametrize(
    ("body", "headers", "words"),
    [
        pytest.param(b"not json", {}, "expected a JSON array", id="not-json"),
        pytest.param(b"", {}, "expected a JSON array", id="empty-json-body"),
        pytest.param(b'[{"event_id": "e1",', {}, "not valid JSON", id="truncated-array"),
        pytest.param(b'{"records": [', {}, "not valid JSON", id="truncated-object"),
        pytest.param(b"[1, 2] trailing", {}, "not valid JSON", id="trailing-garbage"),
        pytest.param(b'"a string"', {}, "expected a JSON array", id="json-string"),
        pytest.param(
            b"\x1f\x8bnot really gzip",
            {"Content-Encoding": "gzip"},
            "not valid gzip",
            id="bad-gzip",
        ),
        pytest.param(
            gzip.compress(b'[{"event_id": "e1"}]')[:-12],
            {"Content-Encoding": "gzip"},
            "truncated",
            id="truncated-gzip",
        ),
        pytest.param(
            b'[{"event_id": "e1"}]', {"Content-Encoding": "gzip"}, "gzip", id="plain-as-gzip"
        ),
    ],
)
def test_malformed_body_is_400(
    shared_server: LiveServer, body: bytes, headers: dict[str, str], words: str
) -> None:
    with shared_server.client() as client:
        for path in ENDPOINTS:
            answer = client.post(
                path, content=body, headers={"Content-Type": "application/json", **headers}
            )
            assert answer.status_code == 400, answer.text
            assert words in answer.json()["detail"]
            assert answer.json()["detail"].startswith("body:")
    assert_nothing_stored(shared_server)


def test_auth_is_checked_before_the_body_is_read(small_server: LiveServer) -> None:
    """An unauthenticated client learns nothing about limits or formats."""
    answer = httpx.post(
        f"{small_server.url}/v1/records",
        content=b"x" * (LIMIT * 2),
        headers={"Content-Type": "text/plain"},
    )
    assert answer.status_code == 401
