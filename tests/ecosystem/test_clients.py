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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from detector.config import Settings
from detector.store.db import make_engine
from tests.api.conftest import scratch_database
from tests.conftest import TOKEN
from tests.ecosystem.standin import ORGANIZATION, serve_standin
from tests.ecosystem.stored import stored_records
from tests.support.server import LiveServer, serve_in_thread

pytestmark = [pytest.mark.db, pytest.mark.slow]

ROOT = Path(__file__).parents[2]


CLIENTS = (
    "openai_v2",
    "anthropic_sdk",
    "openllmetry",
    "openinference",
    "openai_agents",
    "litellm_otel",
)


@dataclass
class Run:
    """One detector that every client exported to, with what each client printed."""

    server: LiveServer
    engine: Engine
    printed: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """Every client once, side by side, against one detector: each names its own callers,
    so their records are told apart by account, and the suite pays one start-up."""
    directory = tmp_path_factory.mktemp("clients")
    base = request.config.getoption("--database-url")
    with serve_standin() as standin, scratch_database(directory, base) as url:
        settings = Settings.model_validate(
            {
                "data_dir": directory,
                "database_url": url,
                "api_tokens": [TOKEN],
                "pipeline_embedded": False,
                "ingest_processes": 0,
            }
        )
        with serve_in_thread(settings) as server:
            with ThreadPoolExecutor(max_workers=3) as pool:
                outputs = pool.map(lambda name: run_client(name, standin, server), CLIENTS)
                printed = dict(zip(CLIENTS, outputs, strict=True))
            engine = make_engine(url)
            try:
                yield Run(server, engine, printed)
            finally:
                engine.dispose()


def run_client(name: str, standin: str, server: LiveServer) -> dict[str, Any]:
    """Run ``clients/<name>.py`` in a process of its own; what it printed last, as JSON."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        # Clients that export metrics and logs besides traces would post them to
        # endpoints the detector does not have; traces are what it reads.
        "TRACELOOP_METRICS_ENABLED": "false",
        "TRACELOOP_LOGGING_ENABLED": "false",
    }
    module = f"tests.ecosystem.clients.{name}"
    done = subprocess.run(
        [sys.executable, "-m", module, standin, server.url, server.token],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env=env,
        cwd=ROOT,
    )
    assert done.returncode == 0, f"{name}: {done.stderr[-3000:]}"
    lines = done.stdout.strip().splitlines()
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


def test_every_call_is_one_record_of_its_caller(run: Run) -> None:
    """Each client's calls, each once, under the caller its recipe names: none refused,
    none under the fallback account, none counted twice."""
    counts = {account: len(records) for account, records in by_account(run.engine).items()}
    assert counts == {
        "acct-v2-1": 2,
        "acct-v2-2": 2,
        ORGANIZATION: 2,
        "acct-ll-1": 1,
        "acct-ll-2": 1,
        "acct-oi-1": 1,
        "acct-oi-2": 1,
        "acct-ag-1": 1,
        "acct-ag-2": 1,
        "acct-lo-1": 1,
        "acct-lo-2": 1,
    }


def test_openai_v2_instrumentation(run: Run) -> None:
    records = by_account(run.engine)
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


def test_anthropic_sdk_own_spans(run: Run) -> None:
    records = by_account(run.engine)
    thinking, plain = records[ORGANIZATION]
    assert thinking["org_id"] == ORGANIZATION
    assert thinking["attributes"]["detector.account_from"] == "anthropic.organization.id"
    assert thinking["reasoning_mode"] == "enabled"
    assert thinking["finish_reason"] == "end_turn"
    assert (thinking["input_tokens"], thinking["cache_read_input_tokens"]) == (300, 100)
    assert thinking["event_id"].startswith("otlp-response-msg_standin_")
    assert "reasoning_mode" not in plain


def test_openllmetry_one_record_per_call(run: Run) -> None:
    records = by_account(run.engine)
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
    assert skipped(run.server).get("same_call", 0) >= 1


def test_openinference(run: Run) -> None:
    records = by_account(run.engine)
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


def test_openai_agents(run: Run) -> None:
    records = by_account(run.engine)
    # Two runs of one model call each: two records, the agent spans counted as skipped.
    assert (len(records["acct-ag-1"]), len(records["acct-ag-2"])) == (1, 1)
    [call] = records["acct-ag-1"]
    assert call["request_model"] == "gpt-4o-mini"
    assert call["operation"] == "chat"
    assert call["attributes"]["gen_ai.agent.name"] == "helper"  # from the agent span above
    assert skipped(run.server).get("grouping", 0) >= 2


def test_litellm_otel_callback(run: Run) -> None:
    records = by_account(run.engine)
    [first] = records["acct-lo-1"]
    assert first["operation"] == "chat"
    assert first["finish_reason"] == "stop"
    assert first["stream"] is False
    assert (first["input_tokens"], first["output_tokens"]) == (120, 40)
    # From LiteLLM's raw request span under its call span.
    assert (first["reasoning_output_tokens"], first["cache_read_input_tokens"]) == (16, 64)
    [tooled] = records["acct-lo-2"]
    assert tooled["request_model"] == "o3-mini"
    assert tooled["reasoning_mode"] == "medium"
    assert tooled["tool_names"] == ["run_sql"]
    assert tooled["response_tool_call_names"] == ["run_sql"]
    assert tooled["finish_reason"] == "tool_calls"
