"""The FastAPI application and the mapping of domain errors to HTTP answers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool

from detector.api import failures, heap, openapi, reference
from detector.api.deps import AppState
from detector.api.guard import Guard
from detector.api.ingest_pool import IngestPool
from detector.api.pipeline_process import PipelineProcess
from detector.api.responses import JSONBytes
from detector.api.routes import blocklist, decisions, health, ingest, pipeline
from detector.api.routes import cases as cases_route
from detector.api.routes import litellm as litellm_route
from detector.api.routes import metrics as metrics_route
from detector.api.routes import traces as traces_route
from detector.config import Settings, get_settings
from detector.dashboard import mount as mount_dashboard
from detector.dashboard.sweeper import Sweeper
from detector.enforcement.webhook import WebhookWorker
from detector.errors import (
    BadBatchError,
    PayloadTooLargeError,
    UnsupportedMediaError,
)
from detector.ingest.service import Ingestor
from detector.observability.middleware import RequestContextMiddleware
from detector.pipeline.service import make_runner
from detector.store.db import make_engine

log = logging.getLogger("detector.api")

# Routes that read their body themselves against ``max_body_bytes`` (``read_body``).
INGEST_PATHS = ("/v1/records", "/v1/accounts", "/v1/traces", "/v1/litellm")
_STATUS = {PayloadTooLargeError: 413, UnsupportedMediaError: 415, BadBatchError: 400}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(
        settings.resolved_database_url, sqlite_busy_timeout=settings.sqlite_busy_timeout
    )

    webhooks = WebhookWorker(engine, settings)
    sweeper = Sweeper(engine)

    # In this process the runner only reads the pipeline's state, and flushes it when
    # no process of this server runs the pipeline.
    runner = make_runner(engine, settings)
    embedded = PipelineProcess(settings) if settings.pipeline_embedded else None
    processes = settings.resolved_ingest_processes
    pool = IngestPool(settings, processes) if processes else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        heap.settle()
        if pool is not None:
            await pool.start()
        await webhooks.start()
        await sweeper.start()
        watching = None
        if embedded is not None:
            embedded.start()
            watching = asyncio.create_task(embedded.watch())
        yield
        if embedded is not None and watching is not None:
            watching.cancel()
            await run_in_threadpool(embedded.stop)
        await sweeper.stop()
        await webhooks.stop()
        await run_in_threadpool(runner.close)
        if pool is not None:
            await run_in_threadpool(pool.close)
        engine.dispose()

    # /openapi.json and /docs (rendered on the server, detector/api/reference.py) are
    # open like /healthz: they describe the API and hold no data.
    app = FastAPI(
        title="distillation-detector",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.webhooks = webhooks
    app.state.pipeline = runner
    app.state.embedded_pipeline = embedded
    app.state.detector = AppState(
        settings=settings, engine=engine, ingestor=Ingestor(engine, settings), pool=pool
    )
    if not settings.api_tokens:
        log.warning("no API tokens configured (DETECTOR_API_TOKENS): every write is refused")

    @app.exception_handler(BadBatchError)
    async def bad_batch(_: Request, exc: BadBatchError) -> JSONBytes:
        code = next(code for kind, code in _STATUS.items() if isinstance(exc, kind))
        return JSONBytes({"detail": str(exc)}, status_code=code)

    failures.install(app)

    app.include_router(health.router)
    app.include_router(ingest.router)
    app.include_router(pipeline.router)
    app.include_router(cases_route.router)
    app.include_router(traces_route.router)
    app.include_router(litellm_route.router)
    app.include_router(metrics_route.router)
    # The guard inside the request-id middleware, so that its answers carry the id.
    app.add_middleware(Guard, limit=settings.max_request_bytes, own_limit=frozenset(INGEST_PATHS))
    app.add_middleware(RequestContextMiddleware)
    app.include_router(decisions.router)
    app.include_router(blocklist.router)
    mount_dashboard(app)
    app.include_router(reference.router)
    openapi.install(app)

    return app
