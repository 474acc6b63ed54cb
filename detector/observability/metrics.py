"""Per-process metrics: HTTP traffic, ingest outcomes, pipeline window times.

These live in one module-level registry, so every app in a process shares them and
they count from process start. With ``detector serve --workers N`` each worker
counts its own traffic, and a scrape sees the worker that answered it: sum them with
``sum by (...)`` across scrapes of each worker, or read the store-derived totals
(``store_metrics``), which are the same whichever worker answers.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

from detector.ingest.service import BatchResult

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

INGEST_ITEMS = Counter(
    "detector_ingest_items",
    "Items received on an ingest endpoint, by outcome (accepted, duplicate, rejected).",
    ["endpoint", "outcome"],
    registry=REGISTRY,
)
INGEST_REJECTED = Counter(
    "detector_ingest_rejected",
    "Items refused on an ingest endpoint, by the field blamed and the rule broken "
    "(unstorable: a NUL or lone surrogate; future: dated past the allowed skew; "
    "invalid: any other rule).",
    ["endpoint", "field", "rule"],
    registry=REGISTRY,
)
HTTP_REQUESTS = Counter(
    "detector_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_SECONDS = Histogram(
    "detector_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["route"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
WINDOW_SECONDS = Histogram(
    "detector_pipeline_window_seconds",
    "Wall-clock time to close one event-time window: its aggregate, the merge of a "
    "tick's windows, and waiting for the previous tick's analysis to finish.",
    registry=REGISTRY,
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
ORPHAN_TOOL_SPANS = Counter(
    "detector_otlp_orphan_tool_spans",
    "execute_tool spans whose model call was not in the same export request.",
    registry=REGISTRY,
)
SKIPPED_SPANS = Counter(
    "detector_otlp_skipped_spans",
    "OTLP spans that became no record of their own, by reason (not_genai: no GenAI "
    "operation; grouping: agent, workflow or chain spans; same_call: a second span of a "
    "call already recorded; orphan_tool: a tool span without its call).",
    ["reason"],
    registry=REGISTRY,
)
FALLBACK_IDENTITY = Counter(
    "detector_ingest_fallback_identity",
    "Records that named no caller, stored under the unattributed fallback account.",
    ["endpoint"],
    registry=REGISTRY,
)


def count_batch(endpoint: str, result: BatchResult) -> None:
    """Count one answered ingest batch."""
    INGEST_ITEMS.labels(endpoint, "accepted").inc(result.accepted)
    INGEST_ITEMS.labels(endpoint, "duplicate").inc(result.duplicates)
    INGEST_ITEMS.labels(endpoint, "rejected").inc(result.rejected)
    for error in result.errors:
        INGEST_REJECTED.labels(endpoint, error.field, error.rule).inc()


# Where ``observe_window`` puts a window's time: this process's histogram, unless
# ``forward_windows`` sends it elsewhere.
_window_sink: Callable[[float], None] = WINDOW_SECONDS.observe


def observe_window(seconds: float) -> None:
    """The pipeline calls this once per closed window, with its processing time."""
    _window_sink(seconds)


def forward_windows(sink: Callable[[float], None]) -> None:
    """Send this process's window times to ``sink`` rather than to its histogram: the
    embedded pipeline's process serves no ``/metrics`` and hands them to the server's."""
    global _window_sink
    _window_sink = sink
