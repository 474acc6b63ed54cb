"""Real clients, in their default configuration, calling a stand-in model and exporting here.

Each recipe of docs/ingest-formats.md ("Recipes") is one script in ``clients/``: the
real SDK and instrumentation packages, configured as their documentation says, call
the local stand-in for the OpenAI/Anthropic APIs (``standin.py``) and export to a live
detector. The records stored are then checked for who called, what was asked and what
it cost, with nothing invented: a count the client did not report stays unknown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from tests.ecosystem.standin import ORGANIZATION, serve_standin
from tests.ecosystem.stored import stored_records
from tests.support.server import LiveServer

pytestmark = [pytest.mark.db, pytest.mark.slow]

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def standin() -> Iterator[str]:
    with serve_standin() as url:
        yield url


def run_client(name: str, standin: str, server: LiveServer) -> dict[str, Any]:
    """Run ``clients/<name>.py`` in a process of its own; what it printed last, as JSON."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        # Clients that export metrics and logs besides traces would post them to
        # endpoints the detector does not have; traces are what it reads.
        "TRACELOOP_METRICS_ENABLED": "false",
        "TRACELOOP_LOGGING_ENABLED": "false",
        "OTEL_SDK_DISABLED": "false",
    }
    module = f"tests.ecosystem.clients.{name}"
    run = subprocess.run(
        [sys.executable, "-m", module, standin, server.url, server.token],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.strip().splitlines()
    result: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    return result


def by_account(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for record in stored_records(engine).values():
        out.setdefault(record["account_id"], []).append(record)
    for records in out.values():
        records.sort(key=lambda r: r["ts_start"])
    return out


def skipped(server: LiveServer) -> dict[str, float]:
    text = httpx.get(f"{server.url}/metrics").text
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("detector_otlp_skipped_spans_total{"):
            reason = line.split('reason="', 1)[1].split('"', 1)[0]
            counts[reason] = float(line.rsplit(" ", 1)[1])
    return counts


def test_openai_v2_instrumentation(standin: str, server: LiveServer, engine: Engine) -> None:
    run_client("openai_v2", standin, server)
    records = by_account(engine)
    assert set(records) == {"acct-v2-1", "acct-v2-2"}
    plain, streamed = records["acct-v2-1"]
    # Inherited from the application's request span around the call.
    assert plain["client_ip"] == "203.0.113.1"
    assert plain["user_agent"] == "shop-web/2.1"
    assert plain["attributes"]["detector.account_from"] == "inherited enduser.id"
    assert (plain["provider"], plain["request_model"]) == ("openai", "gpt-4o-mini")
    assert (plain["input_tokens"], plain["output_tokens"]) == (120, 40)
    assert plain["finish_reason"] == "stop"
    # A stream without a usage chunk: the client measured nothing, so nothing is stored.
    assert "input_tokens" not in streamed and "output_tokens" not in streamed


def test_anthropic_sdk_own_spans(standin: str, server: LiveServer, engine: Engine) -> None:
    run_client("anthropic_sdk", standin, server)
    records = by_account(engine)
    assert set(records) == {ORGANIZATION}
    thinking, plain = records[ORGANIZATION]
    assert thinking["org_id"] == ORGANIZATION
    assert thinking["attributes"]["detector.account_from"] == "anthropic.organization.id"
    assert thinking["reasoning_mode"] == "enabled"
    assert thinking["finish_reason"] == "end_turn"
    assert (thinking["input_tokens"], thinking["cache_read_input_tokens"]) == (300, 100)
    assert thinking["event_id"].startswith("otlp-response-msg_standin_")
    assert "reasoning_mode" not in plain


def test_openllmetry_one_record_per_call(standin: str, server: LiveServer, engine: Engine) -> None:
    run_client("openllmetry", standin, server)
    records = by_account(engine)
    assert set(records) == {"acct-ll-1", "acct-ll-2"}
    # The Anthropic call is seen twice (OpenLLMetry's span and the SDK's own): one record,
    # with the transcript only OpenLLMetry's span has and the organisation only the SDK's has.
    [claude] = records["acct-ll-1"]
    assert claude["provider"] == "anthropic"
    assert claude["org_id"] == ORGANIZATION
    assert claude["message_count"] == 1
    assert claude["attributes"]["gen_ai.conversation.id"] == "s-1"
    [gpt] = records["acct-ll-2"]
    assert gpt["stream"] is False
    assert gpt["reasoning_output_tokens"] == 16
    assert gpt["cache_read_input_tokens"] == 64
    assert skipped(server).get("same_call", 0) >= 1


def test_openinference(standin: str, server: LiveServer, engine: Engine) -> None:
    run_client("openinference", standin, server)
    records = by_account(engine)
    assert set(records) == {"acct-oi-1", "acct-oi-2"}
    [tooled] = records["acct-oi-1"]
    assert (tooled["provider"], tooled["request_model"]) == ("openai", "gpt-4o-mini")
    assert (tooled["input_tokens"], tooled["output_tokens"]) == (120, 40)
    assert tooled["reasoning_output_tokens"] == 16
    assert tooled["reasoning_mode"] == "high"
    assert tooled["tool_names"] == ["run_sql"]
    assert tooled["response_tool_call_names"] == ["run_sql"]
    assert tooled["finish_reason"] == "tool_calls"
    assert tooled["message_count"] == 1 and "system_fingerprint" in tooled
    assert tooled["attributes"]["gen_ai.conversation.id"] == "conv-1"
    [streamed] = records["acct-oi-2"]
    assert streamed["stream"] is True
    assert "input_tokens" not in streamed


def test_openai_agents(standin: str, server: LiveServer, engine: Engine) -> None:
    run_client("openai_agents", standin, server)
    records = by_account(engine)
    # Two runs of one model call each: two records, the agent spans counted as skipped.
    assert {a: len(r) for a, r in records.items()} == {"acct-ag-1": 1, "acct-ag-2": 1}
    [call] = records["acct-ag-1"]
    assert call["request_model"] == "gpt-4o-mini"
    assert call["operation"] == "chat"
    assert call["attributes"]["gen_ai.agent.name"] == "helper"  # from the agent span above
    assert skipped(server).get("grouping", 0) >= 2


def test_litellm_otel_callback(standin: str, server: LiveServer, engine: Engine) -> None:
    run_client("litellm_otel", standin, server)
    records = by_account(engine)
    assert set(records) == {"acct-lo-1", "acct-lo-2"}
    [first] = records["acct-lo-1"]
    assert first["operation"] == "chat"
    assert first["finish_reason"] == "stop"
    assert first["stream"] is False
    assert (first["input_tokens"], first["output_tokens"]) == (120, 40)
