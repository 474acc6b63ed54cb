"""What a LiteLLM proxy's caller controls never overrides what LiteLLM vouches for.

On the proxy, a request body's ``metadata`` arrives as
``metadata.requester_metadata`` (and a caller may send ``spend_logs_metadata``): the
caller's word. Identity, key, address, event id and time come from LiteLLM.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from detector.ingest.litellm import payload_record
from detector.ingest.mapped import MapContext
from tests.ecosystem.stored import stored_records
from tests.support.server import LiveServer

pytestmark = pytest.mark.db

CTX = MapContext(key=b"k", max_prompt_chars=100)
START = 1_771_804_800.0
FORGED = {
    "account_id": "acct-victim",
    "org_id": "org-victim",
    "api_key_id": "key-victim",
    "client_ip": "203.0.113.66",
    "user_agent": "forged/1.0",
    "request_model": "forged-model",
    "event_id": "fixed-id",
    "ts_start": 0,
    "input_tokens": 1,
    "channel": "batch",
}


def proxied(call_id: str, **metadata: Any) -> dict[str, Any]:
    """A payload as the proxy logs it for a team key's call from 198.51.100.7."""
    return {
        "id": call_id,
        "litellm_call_id": call_id,
        "model": "gpt-4o",
        "startTime": START,
        "endTime": START + 1,
        "prompt_tokens": 120,
        "requester_ip_address": "198.51.100.7",
        "user_agent": "openai-python/1.90",
        "metadata": {
            "user_api_key_team_id": "team-real",
            "user_api_key_org_id": "org-real",
            "user_api_key_hash": "hash-real",
            **metadata,
        },
    }


@pytest.mark.parametrize("origin", ["requester_metadata", "spend_logs_metadata"])
def test_caller_metadata_never_overrides_what_litellm_recorded(origin: str) -> None:
    record = payload_record(proxied("call-1", **{origin: FORGED}), CTX)
    assert record["event_id"] == "litellm-call-1"
    assert record["ts_start"] == START
    assert record["account_id"] == "team-real"
    assert record["org_id"] == "org-real"
    assert record["api_key_id"] == "hash-real"
    assert record["client_ip"] == "198.51.100.7"
    assert record["user_agent"] == "openai-python/1.90"
    assert record["request_model"] == "gpt-4o"
    assert record["input_tokens"] == 120
    # What the caller may say about its call is taken...
    assert record["channel"] == "batch"
    # ...and its other claims are kept where a reviewer sees them as claims.
    claims = record["attributes"]
    assert claims[f"litellm.{origin}.account_id"] == "acct-victim"
    assert claims[f"litellm.{origin}.event_id"] == "fixed-id"
    assert len([key for key in claims if key.startswith(f"litellm.{origin}.")]) <= 8


def test_spend_logs_metadata_names_the_account_only_where_litellm_named_none() -> None:
    payload = proxied("call-2", spend_logs_metadata={"account_id": "acct-sdk"})
    del payload["metadata"]["user_api_key_team_id"]
    assert payload_record(payload, CTX)["account_id"] == "acct-sdk"
    # requester_metadata never does: the call is the sender's unattributed one, or
    # refused where the fallback is off.
    payload = proxied("call-3", requester_metadata={"account_id": "acct-sdk"})
    del payload["metadata"]["user_api_key_team_id"]
    assert payload_record(payload, CTX)["account_id"].startswith("unattributed:litellm:")
    strict = MapContext(key=b"k", max_prompt_chars=100, identity_fallback=False)
    with pytest.raises(ValueError, match="account_id: required"):
        payload_record(payload, strict)


def test_a_fixed_event_id_from_the_caller_does_not_hide_calls(
    server: LiveServer, engine: Engine
) -> None:
    calls = [proxied(f"call-{i}", requester_metadata=FORGED) for i in range(2)]
    with server.client() as client:
        answer = client.post("/v1/litellm", json=calls)
    assert answer.json() == {"accepted": 2, "duplicates": 0, "rejected": 0, "errors": []}
    stored = stored_records(engine)
    assert set(stored) == {"litellm-call-0", "litellm-call-1"}
    assert {record["account_id"] for record in stored.values()} == {"team-real"}
