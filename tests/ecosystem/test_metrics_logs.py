"""``/metrics`` parses as Prometheus text and moves; the log formatter hides secrets.

The JSON logs of a real ``detector serve`` process, with request ids, are checked in
test_compose.py, which runs that process anyway.
"""

from __future__ import annotations

import logging

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from detector.observability.logs import JsonFormatter
from tests.support.server import LiveServer

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
    assert after[("detector_pipeline_late_records_total", ())] == 0
    assert ("detector_cases", (("status", "open"),)) in after
    requests = (
        "detector_http_requests_total",
        (("method", "POST"), ("route", "/v1/records"), ("status", "200")),
    )
    assert after[requests] - before.get(requests, 0) == 2


def test_formatter_redacts_configured_secrets() -> None:
    formatter = JsonFormatter(["x", "s3cret-token-value"])
    record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "Context %s and a%s", ("s3cret-token-value",) * 2, None
    )
    line = formatter.format(record)
    assert "s3cret-token-value" not in line
    assert orjson.loads(line)["message"] == "Context [redacted] and a[redacted]"
