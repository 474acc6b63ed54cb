"""The API documents itself: /openapi.json is complete and /docs renders it, locally."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from detector.api.schemas import BatchAnswer, CasePage, PipelineState
from detector.schema import Account, Record
from tests.support.server import LiveServer

API_MD = Path(__file__).parents[2] / "docs" / "api.md"
INGEST = ("/v1/records", "/v1/accounts", "/v1/traces", "/v1/litellm")


@pytest.fixture(scope="module")
def document(shared_server: LiveServer) -> dict[str, Any]:
    answer = httpx.get(f"{shared_server.url}/openapi.json", timeout=30)  # no token: open
    assert answer.status_code == 200
    doc: dict[str, Any] = answer.json()
    return doc


def test_every_endpoint_has_its_answers_and_auth(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert set(INGEST) <= set(paths)
    for path, item in paths.items():
        for method, op in item.items():
            codes = set(op["responses"])
            assert codes & {"200", "201"}, (method, path)
            for media in op["responses"].values():
                assert media.get("content"), (method, path, "an answer without a body shape")
            if path.startswith("/v1/"):
                assert op["security"] == [{"bearerAuth": []}], (method, path)
                assert "401" in codes, (method, path)
    for path in INGEST:
        op = paths[path]["post"]
        assert {"400", "401", "413", "415", "503"} <= set(op["responses"]), path
        assert op["requestBody"]["required"] is True
    records = paths["/v1/records"]["post"]["requestBody"]["content"]
    assert set(records) == {"application/json", "application/x-ndjson"}
    traces = paths["/v1/traces"]["post"]["requestBody"]["content"]
    assert set(traces) == {"application/x-protobuf", "application/json"}


def test_record_and_account_schemas_are_the_validators(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for struct in (Record, Account):
        schema = schemas[struct.__name__]
        assert set(schema["properties"]) == set(struct.__struct_fields__)
        undocumented = [f for f, s in schema["properties"].items() if not s.get("description")]
        assert not undocumented, f"{struct.__name__}: {undocumented}"
    assert schemas["Record"]["required"] == ["event_id", "ts_start", "account_id", "request_model"]


@pytest.mark.db
def test_real_answers_match_the_documented_models(server: LiveServer) -> None:
    record = {"event_id": "e1", "ts_start": 1_771_804_800, "account_id": "a", "request_model": "m"}
    with server.client() as client:
        BatchAnswer.model_validate(client.post("/v1/records", json=[record, {}]).json())
        PipelineState.model_validate(client.get("/v1/pipeline").json())
        CasePage.model_validate(client.get("/v1/cases").json())


def test_reference_page_is_local_and_complete(shared_server: LiveServer) -> None:
    page = httpx.get(f"{shared_server.url}/docs", timeout=30)
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert "<script" not in html
    # Every asset and link is on this server: nothing for a CDN to serve or to see.
    for target in re.findall(r'(?:href|src)="([^"]+)"', html):
        assert target.startswith(("/", "#")), target
    for path in INGEST:
        assert f"POST {path}" in html
    assert "event_id" in html and "413" in html


def test_docs_api_md_covers_every_endpoint_and_field(document: dict[str, Any]) -> None:
    text = API_MD.read_text()
    for path, item in document["paths"].items():
        for method in item:
            assert f"{method.upper()} {path}" in text, f"docs/api.md: {method.upper()} {path}"
    for struct in (Record, Account):
        missing = [f for f in struct.__struct_fields__ if f"`{f}`" not in text]
        assert not missing, f"docs/api.md lacks {struct.__name__} fields {missing}"


def test_no_document_links_outside_the_repository() -> None:
    root = Path(__file__).parents[2]
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        assert "shared/" not in doc.read_text(), f"{doc.name} links outside the repository"


def test_prose_marks_code_and_escapes_the_rest() -> None:
    from detector.api.reference import prose

    assert str(prose("send `<b>` not <script>")) == (
        "send <code>&lt;b&gt;</code> not &lt;script&gt;"
    )
