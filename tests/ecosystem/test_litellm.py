"""LiteLLM, run for real with mocked model answers, logging into ``POST /v1/litellm``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from detector.config import Settings
from detector.fingerprints import prompt_fingerprint, system_fingerprint
from tests.ecosystem.stored import stored_records
from tests.support.server import LiveServer

CLIENT = Path(__file__).with_name("litellm_client.py")


@pytest.mark.db
@pytest.mark.slow
def test_litellm_generic_api_callback_in_every_format(
    server: LiveServer, engine: Engine, settings: Settings
) -> None:
    run = subprocess.run(
        [sys.executable, str(CLIENT), server.url, server.token, "json_array", "ndjson", "single"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["queued"] == 4
    answers = out["answers"]
    assert [a["status"] for a in answers] == [200] * 6  # one array, one NDJSON, four single
    assert answers[0]["body"] == {"accepted": 4, "duplicates": 0, "rejected": 0, "errors": []}
    # The same calls again, as NDJSON and one by one: the same event ids, so duplicates.
    assert answers[1]["body"]["duplicates"] == 4
    assert sum(a["body"]["duplicates"] for a in answers[2:]) == 4

    records = {r["account_id"]: r for r in stored_records(engine).values()}
    assert set(records) == {"acct-litellm-1", "acct-litellm-2", "acct-litellm-3", "acct-litellm-4"}
    key = settings.fingerprint_key.get_secret_value().encode()
    tooled = records["acct-litellm-1"]
    assert tooled["event_id"].startswith("litellm-")
    assert tooled["provider"] == "anthropic"
    assert tooled["request_model"] == "claude-opus-4-6"
    assert tooled["operation"] == "chat"
    assert (tooled["input_tokens"], tooled["output_tokens"]) == (1500, 400)
    assert tooled["cache_read_input_tokens"] == 1024
    assert tooled["reasoning_output_tokens"] == 250
    assert tooled["reasoning_mode"] == "high"
    assert tooled["tool_names"] == ["run_sql"]
    assert tooled["response_tool_call_names"] == ["run_sql"]
    assert tooled["finish_reason"] == "tool_calls"
    assert tooled["message_count"] == 1
    assert tooled["prompt_fingerprint"] == prompt_fingerprint(
        "Explain, step by step, why 17 is prime.", key
    )
    assert tooled["system_fingerprint"] == system_fingerprint(
        "You are an expert data analyst with transparent reasoning.", key
    )
    assert tooled["ts_end"] >= tooled["ts_start"]
    assert "prompt_text" not in tooled
    assert records["acct-litellm-2"]["channel"] == "batch"  # from spend_logs_metadata
    failed = records["acct-litellm-3"]
    assert failed["status"] == "error"
    assert failed["http_status"] == 500
    # LiteLLM logs 0 and 0 for a call that failed: nothing was measured, nothing is stored.
    assert "input_tokens" not in failed and "output_tokens" not in failed
    assert records["acct-litellm-4"]["stream"] is True


@pytest.mark.db
def test_bad_payloads_are_answered_per_item(server: LiveServer, engine: Engine) -> None:
    good = {
        "id": "chatcmpl-1",
        "litellm_call_id": "call-1",
        "call_type": "completion",
        "startTime": 1_771_804_800.0,
        "endTime": 1_771_804_801.5,
        "model": "gpt-4o",
        "model_parameters": {"user": "acct-9"},
        "prompt_tokens": 3,
        "completion_tokens": 2,
        "status": "success",
        "metadata": {},
        "messages": [{"role": "user", "content": "hi"}],
    }
    no_account = {**good, "litellm_call_id": "call-2", "model_parameters": {}}
    late_end = {**good, "litellm_call_id": "call-3", "endTime": 1_771_804_700.0}
    negative = {**good, "litellm_call_id": "call-4", "prompt_tokens": -1}
    with server.client() as client:
        answer = client.post("/v1/litellm", json=[good, no_account, late_end, negative, 7])
        garbage = client.post(
            "/v1/litellm", content=b"{nope", headers={"content-type": "application/json"}
        )
        unauthenticated = httpx.post(f"{server.url}/v1/litellm", json=[good])
    assert answer.status_code == 200
    body = answer.json()
    # The payload that names no caller is kept under the explicit fallback account.
    assert (body["accepted"], body["rejected"]) == (2, 3)
    errors = {e["index"]: e for e in body["errors"]}
    assert 1 not in errors
    assert errors[2]["field"] == "ts_end" and "before ts_start" in errors[2]["message"]
    assert errors[3]["field"] == "input_tokens"
    assert errors[4]["message"] == "payload: must be a StandardLoggingPayload object"
    fallback = stored_records(engine)["litellm-call-2"]
    assert fallback["account_id"].startswith("unattributed:litellm:key-")
    assert fallback["attributes"]["detector.identity"] == "fallback"
    assert garbage.status_code == 400
    assert "StandardLoggingPayload" in garbage.json()["detail"]
    assert unauthenticated.status_code == 401
