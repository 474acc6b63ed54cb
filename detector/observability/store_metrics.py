"""Metrics read from the store at scrape time: the same answer from every process.

Totals of the event log, the pipeline's progress and the open cases are facts of the
database, so they are computed from it when Prometheus scrapes rather than counted
in memory: they survive restarts and agree across ``--workers`` and the worker.
A table a migration has not created yet is skipped, not an error.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, func, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from detector.store.event_log import LogTotals, totals
from detector.store.pipeline_models import (
    CASE_STATUSES,
    CaseRow,
    PipelineStateRow,
    QuarantineRow,
)
from detector.store.quarantine import progress, quarantined_records

PIPELINE = "main"


class StoreCollector(Collector):
    """A Prometheus collector over one engine's event log, pipeline state and cases."""

    def __init__(self, engine: Engine, *, stall_seconds: float = 300.0) -> None:
        self.engine = engine
        self.stall_seconds = stall_seconds

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("detector_store_up", "1 when the store answered this scrape.")
        try:
            with self.engine.connect() as conn:
                log = totals(conn)
                metrics = list(_log_metrics(log))
                tables = set(inspect(conn).get_table_names())
                if PipelineStateRow.__tablename__ in tables:
                    aside = (
                        quarantined_records(conn) if QuarantineRow.__tablename__ in tables else 0
                    )
                    metrics += _pipeline_metrics(conn, log, aside)
                    metrics += _progress_metrics(conn, self.stall_seconds)
                if CaseRow.__tablename__ in tables:
                    metrics += _case_metrics(conn)
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from metrics


def _log_metrics(log: LogTotals) -> Iterator[Metric]:
    for name, doc, value in (
        ("detector_log_records", "Records accepted into the event log.", log.received),
        ("detector_log_duplicates", "Records refused as duplicates by event_id.", log.duplicates),
        ("detector_log_rejected", "Records rejected by validation.", log.rejected),
    ):
        counter = CounterMetricFamily(name, doc)
        counter.add_metric([], value)
        yield counter
    yield _gauge("detector_log_segments", "Segments holding records.", log.segments)
    yield _gauge(
        "detector_log_stored_bytes", "Compressed bytes of stored records.", log.stored_bytes
    )
    if log.latest_event is not None:
        yield _gauge(
            "detector_log_latest_event_timestamp_seconds",
            "Latest event time (ts_start) in the event log.",
            log.latest_event,
        )


def _pipeline_metrics(conn: Connection, log: LogTotals, quarantined: int) -> list[Metric]:
    row = conn.execute(
        select(
            PipelineStateRow.watermark,
            PipelineStateRow.max_event,
            PipelineStateRow.processed,
            PipelineStateRow.windows_closed,
            PipelineStateRow.late,
        ).where(PipelineStateRow.name == PIPELINE)
    ).first()
    received = log.received - quarantined
    if row is None:
        return [_gauge("detector_pipeline_pending_records", _PENDING, received)]
    watermark, _, processed, windows, late = row
    metrics = [
        _counter(
            "detector_pipeline_late_records",
            "Records that arrived after their window closed, folded in at the next tick.",
            late,
        ),
        _gauge("detector_pipeline_pending_records", _PENDING, max(received - processed, 0)),
        _counter(
            "detector_pipeline_processed_records", "Records the pipeline folded in.", processed
        ),
        _counter("detector_pipeline_windows_closed", "Event-time windows closed.", windows),
        _counter(
            "detector_pipeline_quarantined_records",
            "Records a pipeline step failed on, set aside in pipeline_quarantine so that "
            "the records after them go on.",
            quarantined,
        ),
    ]
    if watermark is not None:
        metrics.append(
            _gauge(
                "detector_pipeline_watermark_timestamp_seconds", "Pipeline watermark.", watermark
            )
        )
        latest = log.latest_event
        if latest is not None:
            metrics.append(
                _gauge(
                    "detector_pipeline_lag_seconds",
                    "Event time between the latest stored record and the watermark.",
                    max(latest - watermark, 0.0),
                )
            )
    return metrics


_PENDING = "Records in the event log the pipeline has neither processed nor set aside yet."


def _progress_metrics(conn: Connection, stall_seconds: float) -> list[Metric]:
    state = progress(conn, stall_seconds=stall_seconds)
    metrics: list[Metric] = [
        _gauge(
            "detector_pipeline_backlog_records",
            "Records in segments the pipeline has not processed yet.",
            state.backlog_records,
        ),
        _gauge(
            "detector_pipeline_backlog_segments",
            "Segments the pipeline has not processed yet.",
            state.backlog_segments,
        ),
        _gauge(
            "detector_pipeline_backlog_seconds",
            "Wall-clock seconds since the oldest segment not yet processed was received.",
            state.backlog_seconds,
        ),
        _gauge(
            "detector_pipeline_stalled",
            "1 when work has been pending longer than DETECTOR_PIPELINE_STALL_SECONDS "
            "with no checkpoint for as long.",
            1 if state.stalled else 0,
        ),
    ]
    if state.since_progress is not None:
        metrics.append(
            _gauge(
                "detector_pipeline_seconds_since_progress",
                "Wall-clock seconds since the pipeline last checkpointed.",
                state.since_progress,
            )
        )
    return metrics


def _case_metrics(conn: Connection) -> list[Metric]:
    family = GaugeMetricFamily("detector_cases", "Cases by status.", labels=["status"])
    counts = dict.fromkeys(CASE_STATUSES, 0)
    for status, count in conn.execute(
        select(CaseRow.status, func.count()).group_by(CaseRow.status)
    ):
        counts[status] = int(count)
    for status, count in counts.items():
        family.add_metric([status], count)
    return [family]


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, doc)
    gauge.add_metric([], value)
    return gauge


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    counter = CounterMetricFamily(name, doc)
    counter.add_metric([], value)
    return counter
