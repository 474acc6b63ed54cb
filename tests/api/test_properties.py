"""Property tests over every endpoint: whatever a client sends, no answer is a 5xx.

Bodies, query strings and forms are drawn by hypothesis (derandomized, so a failure
reproduces) and sent over real HTTP to one live server, signed in where the route
needs it. Each property asserts the answer is under 500 and carries ``nosniff``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.config import Settings
from detector.schema import Account, Record
from detector.store.db import make_engine, write_transaction
from tests.api.conftest import scratch_database
from tests.conftest import TOKEN
from tests.dashboard.seeding import PASSWORD, add_test_reviewer, seed_case
from tests.support.hostile import START_NS
from tests.support.server import LiveServer, serve_in_thread

pytestmark = pytest.mark.db

EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CASE = "C-prop-1"

# Text with what broke parsers and stores before: NUL, lone surrogates, look-alike
# digits, full-width signs.
hostile_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\x00", "\ud800", "\udfff", "²", "٣", "＝", "\u202e", "\n"]),
    ),
    max_size=40,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
    st.sampled_from(["9" * 5000, "1e300", "-0", ""]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(hostile_text, st.sampled_from(["type", "choices"])), inner, max_size=4
        ),
    ),
    max_leaves=12,
)


def _dumps(value: Any) -> bytes:
    # The standard library writes what a hostile client may: ints past 64 bits, surrogates.
    return json.dumps(value).encode()


def _segment(text: str) -> str:
    """``text`` as one percent-encoded path segment, lone surrogates as their bytes."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _fields(names: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(names), json_values, max_size=4)


@pytest.fixture(scope="module")
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("properties")
    with scratch_database(directory, request.config.getoption("--database-url")) as url:
        engine = make_engine(url)
        with write_transaction(engine) as conn:
            add_test_reviewer(conn)
            seed_case(conn, CASE, score=0.9, account_ids=["acct-p1", "acct-p2"])
        engine.dispose()
        values = {
            "data_dir": directory,
            "database_url": url,
            "api_tokens": [TOKEN],
            "pipeline_embedded": False,
            "ingest_processes": 0,
        }
        with serve_in_thread(Settings.model_validate(values)) as server:
            yield server


@pytest.fixture(scope="module")
def api(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=live.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    ) as client:
        yield client


@pytest.fixture(scope="module")
def browser(live: LiveServer) -> Iterator[tuple[httpx.Client, str]]:
    """A signed-in browser and its CSRF token."""
    with httpx.Client(base_url=live.url, timeout=10) as client:
        page = client.get("/dashboard/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        answer = client.post(
            "/dashboard/signin",
            data={"username": "alice", "password": PASSWORD, "csrf_token": token.group(1)},
        )
        assert answer.status_code == 303, answer.text
        queue = client.get("/dashboard")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', queue.text)
        assert csrf is not None
        yield client, csrf.group(1)


@pytest.fixture(scope="module")
def signin_form(live: LiveServer) -> Iterator[tuple[httpx.Client, str]]:
    """A browser on the sign-in page: its pre-session cookie and the form's token."""
    with httpx.Client(base_url=live.url, timeout=10) as client:
        page = client.get("/dashboard/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        yield client, token.group(1)


def _ok(answer: httpx.Response) -> None:
    assert answer.status_code < 500, answer.text[:300]
    assert answer.headers["x-content-type-options"] == "nosniff"


@EXAMPLES
@given(overrides=st.lists(_fields(Record.__struct_fields__), min_size=1, max_size=3))
def test_records_never_5xx(api: httpx.Client, overrides: list[dict[str, Any]]) -> None:
    base = {"event_id": "p", "ts_start": START_NS / 1e9, "account_id": "a", "request_model": "m"}
    _ok(api.post("/v1/records", content=_dumps([{**base, **o} for o in overrides])))


@EXAMPLES
@given(overrides=st.lists(_fields(Account.__struct_fields__), min_size=1, max_size=3))
def test_accounts_never_5xx(api: httpx.Client, overrides: list[dict[str, Any]]) -> None:
    base = {"account_id": "a", "created_at": START_NS / 1e9}
    _ok(api.post("/v1/accounts", content=_dumps([{**base, **o} for o in overrides])))


@EXAMPLES
@given(
    body=st.binary(max_size=200),
    content_type=st.sampled_from(
        ["application/json", "application/x-ndjson", "application/x-protobuf", "text/plain", ""]
    ),
    encoding=st.sampled_from(["", "gzip", "br"]),
    path=st.sampled_from(["/v1/records", "/v1/accounts", "/v1/traces", "/v1/litellm"]),
)
def test_raw_bytes_never_5xx(
    api: httpx.Client, body: bytes, content_type: str, encoding: str, path: str
) -> None:
    headers = {"content-type": content_type, "content-encoding": encoding}
    _ok(api.post(path, content=body, headers={k: v for k, v in headers.items() if v}))


_OTLP_KEYS = (
    "gen_ai.operation.name",
    "gen_ai.request.model",
    "detector.account_id",
    "gen_ai.usage.input_tokens",
    "gen_ai.input.messages",
    "gen_ai.tool.definitions",
    "detector.ts_start",
)
_ANY_VALUE = st.one_of(
    st.builds(lambda v: {"stringValue": v}, hostile_text),
    st.builds(lambda v: {"intValue": str(v)}, st.integers(-(2**64), 2**64)),
    st.builds(lambda v: {"doubleValue": v}, st.floats(allow_nan=False, allow_infinity=False)),
    json_values,
)


@EXAMPLES
@given(
    attributes=st.lists(
        st.fixed_dictionaries({"key": st.sampled_from(_OTLP_KEYS), "value": _ANY_VALUE}),
        max_size=6,
    ),
    span_extra=_fields(("spanId", "traceId", "startTimeUnixNano", "events", "status", "name")),
    level=json_values,
)
def test_traces_never_5xx(
    api: httpx.Client,
    attributes: list[dict[str, Any]],
    span_extra: dict[str, Any],
    level: Any,
) -> None:
    span = {
        "traceId": "ab" * 16,
        "spanId": "12" * 8,
        "startTimeUnixNano": str(START_NS),
        "attributes": [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
            *attributes,
        ],
        **span_extra,
    }
    for document in (
        {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]},
        {"resourceSpans": [{"scopeSpans": [{"spans": level}]}]},
        {"resourceSpans": level},
    ):
        answer = api.post(
            "/v1/traces", content=_dumps(document), headers={"content-type": "application/json"}
        )
        _ok(answer)


_LITELLM_KEYS = (
    "id",
    "model",
    "startTime",
    "endTime",
    "metadata",
    "model_parameters",
    "messages",
    "response",
    "status",
    "error_information",
    "prompt_tokens",
    "call_type",
    "hidden_params",
)


@EXAMPLES
@given(
    payload=_fields(_LITELLM_KEYS),
    metadata=_fields(
        ("requester_metadata", "spend_logs_metadata", "user_api_key_team_id", "usage_object")
    ),
)
def test_litellm_never_5xx(
    api: httpx.Client, payload: dict[str, Any], metadata: dict[str, Any]
) -> None:
    base = {"id": "p", "model": "m", "startTime": START_NS / 1e9, "metadata": metadata}
    _ok(api.post("/v1/litellm", content=_dumps([{**base, **payload}])))


@EXAMPLES
@given(
    body=st.one_of(json_values.map(_dumps), st.binary(max_size=100)),
    content_type=st.sampled_from(["application/json", "text/plain", "", "multipart/form-data"]),
    case_id=st.one_of(st.just(CASE), hostile_text),
)
def test_decisions_never_5xx(
    api: httpx.Client, body: bytes, content_type: str, case_id: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    path = f"/v1/cases/{_segment(case_id)}/decisions"
    _ok(api.post(path, content=body, headers=headers))


@EXAMPLES
@given(
    params=_fields(("status", "limit", "cursor", "campaign", "format", "since")).map(
        lambda d: {k: str(v) for k, v in d.items()}
    ),
    case_id=hostile_text,
)
def test_reads_never_5xx(api: httpx.Client, params: dict[str, str], case_id: str) -> None:
    for path in ("/v1/cases", "/v1/pipeline", "/v1/blocklist", "/readyz", "/metrics"):
        _ok(api.get(path, params=params))
    _ok(api.get(f"/v1/cases/{_segment(case_id)}"))


@EXAMPLES
@given(
    form=_fields(("username", "password", "csrf_token", "next")).map(
        lambda d: {k: str(v) for k, v in d.items()}
    )
)
def test_signin_never_5xx(signin_form: tuple[httpx.Client, str], form: dict[str, str]) -> None:
    client, token = signin_form
    _ok(client.post("/dashboard/signin", data={"csrf_token": token, **form}))


@EXAMPLES
@given(
    form=_fields(("action", "note", "until", "rise")).map(
        lambda d: {k: str(v) for k, v in d.items()}
    ),
    route=st.sampled_from(["decisions", "snooze", "reopen"]),
    params=_fields(("status", "sort", "page", "capability", "before")).map(
        lambda d: {k: str(v) for k, v in d.items()}
    ),
)
def test_dashboard_never_5xx(
    browser: tuple[httpx.Client, str],
    form: dict[str, str],
    route: str,
    params: dict[str, str],
) -> None:
    client, csrf = browser
    _ok(client.post(f"/dashboard/cases/{CASE}/{route}", data={"csrf_token": csrf, **form}))
    for path in (
        "/dashboard",
        f"/dashboard/cases/{CASE}",
        "/dashboard/audit",
        "/dashboard/blocklist",
        "/dashboard/blocklist.csv",
    ):
        _ok(client.get(path, params=params))
