"""``/metrics`` parses as Prometheus text and moves; logs are JSON with request ids."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from detector.config import Settings
from detector.observability.logs import JsonFormatter
from tests.conftest import TOKEN
from tests.support.server import LiveServer, free_port, wait_ready

pytestmark = pytest.mark.db


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``/metrics``, by name and sorted labels, via Prometheus' parser."""
    answer = httpx.get(f"{url}/metrics", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _records(prefix: str, n: int) -> list[dict[str, object]]:
    return [
        {
            "event_id": f"{prefix}-{i}",
            "ts_start": 1_771_804_800 + 60 * i,
            "account_id": f"acct-{i % 3}",
            "request_model": "m",
        }
        for i in range(n)
    ]


def test_metrics_move_as_records_arrive(server: LiveServer) -> None:
    accepted = ("detector_ingest_items_total", (("endpoint", "records"), ("outcome", "accepted")))
    before = scrape(server.url)
    assert before[("detector_store_up", ())] == 1
    with server.client() as client:
        client.post("/v1/records", json=_records("m", 5)).raise_for_status()
        client.post("/v1/records", json=[*_records("m", 2), {"event_id": "bad"}])
        client.post("/v1/pipeline/flush").raise_for_status()
    after = scrape(server.url)
    log_total = ("detector_log_records_total", ())
    assert after[log_total] - before.get(log_total, 0) == 5
    assert after[("detector_log_duplicates_total", ())] == 2
    assert after[("detector_log_rejected_total", ())] == 1
    assert after[accepted] - before.get(accepted, 0) == 5
    assert after[("detector_log_latest_event_timestamp_seconds", ())] == 1_771_804_800 + 240
    # The pipeline ran (flush): its progress and the case counts are read from the store.
    assert after[("detector_pipeline_pending_records", ())] == 0
    assert after[("detector_pipeline_processed_records_total", ())] == 5
    assert ("detector_cases", (("status", "open"),)) in after
    requests = (
        "detector_http_requests_total",
        (("method", "POST"), ("route", "/v1/records"), ("status", "200")),
    )
    assert after[requests] - before.get(requests, 0) == 2


@contextmanager
def _serve(settings: Settings, stderr: Path) -> Iterator[str]:
    """``detector serve`` in a child process, its stderr to a file."""
    port = free_port()
    env = {
        **os.environ,
        "DETECTOR_DATABASE_URL": settings.resolved_database_url,
        "DETECTOR_DATA_DIR": str(settings.data_dir),
        "DETECTOR_API_TOKENS": TOKEN,
        "DETECTOR_PIPELINE_EMBEDDED": "false",
        "DETECTOR_LOG_FORMAT": "json",
    }
    with stderr.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "detector.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=15)


@pytest.mark.slow
def test_json_logs_with_request_ids_and_no_tokens(settings: Settings, tmp_path: Path) -> None:
    stderr = tmp_path / "serve.log"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with _serve(settings, stderr) as url:
        given = httpx.post(
            f"{url}/v1/records",
            json=_records("r", 2),
            headers={**auth, "X-Request-ID": "req-abc-123"},
        )
        made = httpx.post(f"{url}/v1/records", json=_records("s", 1), headers=auth)
        forged = httpx.get(f"{url}/healthz", headers={"X-Request-ID": "bad id; DROP"})
        wrong = httpx.post(
            f"{url}/v1/records", json=[], headers={"Authorization": "Bearer wrong-token-987"}
        )
        with httpx.Client() as client:
            samples = {
                family.name
                for family in text_string_to_metric_families(client.get(f"{url}/metrics").text)
            }
    assert given.headers["x-request-id"] == "req-abc-123"
    generated = made.headers["x-request-id"]
    assert len(generated) == 32 and int(generated, 16) >= 0
    assert forged.headers["x-request-id"] != "bad id; DROP"
    assert wrong.status_code == 401
    assert "detector_log_records" in samples

    text = stderr.read_text()
    assert TOKEN not in text
    assert "wrong-token-987" not in text
    lines = [orjson.loads(line) for line in text.splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "detector.access"]
    tagged = [line for line in access if line.get("request_id") == "req-abc-123"]
    assert len(tagged) == 1
    assert tagged[0]["path"] == "/v1/records"
    assert tagged[0]["status"] == 200
    assert tagged[0]["duration_ms"] >= 0
    assert any(line.get("request_id") == generated for line in access)
    assert any(line["status"] == 401 for line in access)
    assert all({"ts", "level", "logger", "message"} <= set(line) for line in lines)


def test_formatter_redacts_configured_secrets() -> None:
    formatter = JsonFormatter(["x", "s3cret-token-value"])
    record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "Context %s and a%s", ("s3cret-token-value",) * 2, None
    )
    line = formatter.format(record)
    assert "s3cret-token-value" not in line
    assert orjson.loads(line)["message"] == "Context [redacted] and a[redacted]"
