"""``GET /metrics``: Prometheus text format, open like ``/healthz`` (CONTRACT.md)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from detector.api.deps import State
from detector.observability.metrics import REGISTRY
from detector.observability.store_metrics import StoreCollector

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(state: State) -> Response:
    """Process metrics, then the store's totals (read now, in a worker thread)."""
    store = CollectorRegistry(auto_describe=False)
    store.register(
        StoreCollector(state.engine, stall_seconds=state.settings.pipeline_stall_seconds)
    )
    text = await run_in_threadpool(lambda: generate_latest(REGISTRY) + generate_latest(store))
    return Response(text, media_type=CONTENT_TYPE_LATEST)
