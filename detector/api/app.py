"""The FastAPI application and the mapping of domain errors to HTTP answers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from detector.api import heap, problems
from detector.api.deps import AppState
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
    StoreUnavailableError,
    UnsupportedMediaError,
)
from detector.ingest.service import Ingestor
from detector.observability.middleware import RequestContextMiddleware
from detector.pipeline.service import make_runner
from detector.store.db import make_engine

log = logging.getLogger("detector.api")

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
        if pool is not None:
            await run_in_threadpool(pool.close)
        engine.dispose()

    # No public /docs or /openapi.json: only /healthz, /readyz and the sign-in page are
    # visible without credentials (docs/dashboard.md); CONTRACT.md documents the API.
    app = FastAPI(
        title="distillation-detector",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
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

    @app.exception_handler(StoreUnavailableError)
    async def store_down(_: Request, exc: StoreUnavailableError) -> JSONBytes:
        log.error("store unavailable: %s", exc)
        return JSONBytes(
            {"detail": "store unavailable; retry the same batch (event_id makes it safe)"},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONBytes:
        return problems.unprocessable(problems.validation_problems(exc))

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONBytes:
        return problems.http_error(exc)

    app.include_router(health.router)
    app.include_router(ingest.router)
    app.include_router(pipeline.router)
    app.include_router(cases_route.router)
    app.include_router(traces_route.router)
    app.include_router(litellm_route.router)
    app.include_router(metrics_route.router)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(decisions.router)
    app.include_router(blocklist.router)
    mount_dashboard(app)

    return app
