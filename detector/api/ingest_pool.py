"""Validating and storing batches on a pool of processes.

Decoding holds the GIL, so one server process validates on one core at a time. With
several server processes (``DETECTOR_WORKERS``) each keep-alive connection stays with
the process that accepted it, and four clients may well all land on one of two. A
pool takes each batch to whichever of its processes is idle, so every core works
however the senders' connections fall. The answer still comes only after the batch's
transaction has committed, in the pool process that stored it.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging.config
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from detector.api import heap
from detector.config import Settings
from detector.errors import StoreUnavailableError
from detector.ingest.body import Media
from detector.ingest.service import BatchResult, Ingestor
from detector.observability.logs import log_config
from detector.store.db import make_engine

R = TypeVar("R")

# The pool process's own ingestor, made once by ``_start``.
_ingestor: Ingestor | None = None

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _start(settings: Settings, server: int) -> None:
    global _ingestor
    # The server process drains its batches and then shuts the pool down. Ctrl-C in a
    # terminal reaches the whole process group, and a service manager may signal every
    # process of the service at once: neither must break a batch half way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        # If the server is killed outright, its pool goes with it instead of
        # lingering with the database open; if it died before this line ran, the
        # signal will never come, so go now.
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != server:
            os._exit(1)
    logging.config.dictConfig(log_config(settings, json=settings.log_format == "json"))
    engine = make_engine(
        settings.resolved_database_url, sqlite_busy_timeout=settings.sqlite_busy_timeout
    )
    _ingestor = Ingestor(engine, settings)
    heap.settle()


def _records(body: bytes, media: Media, encoding: str | None) -> BatchResult:
    assert _ingestor is not None, "called outside a pool process"
    return _ingestor.records(body, media, encoding)


def _accounts(body: bytes, media: Media, encoding: str | None) -> BatchResult:
    assert _ingestor is not None, "called outside a pool process"
    return _ingestor.accounts(body, media, encoding)


def _ready() -> bool:
    return _ingestor is not None


class IngestPool:
    """``Ingestor.records`` and ``Ingestor.accounts``, awaited, on ``processes`` processes."""

    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings = settings
        self.processes = processes
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        # spawn, not fork: the server has threads (the pipeline, the thread pool), and
        # a forked child would inherit their locks in whatever state they were.
        return ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(self.settings, os.getpid()),
        )

    async def start(self) -> None:
        """Start every process now rather than on the first batches."""
        await asyncio.gather(*(self._run(_ready) for _ in range(self.processes)))

    async def records(self, body: bytes, media: Media, encoding: str | None) -> BatchResult:
        return await self._run(_records, body, media, encoding)

    async def accounts(self, body: bytes, media: Media, encoding: str | None) -> BatchResult:
        return await self._run(_accounts, body, media, encoding)

    async def _run(self, call: Callable[..., R], *args: Any) -> R:
        executor = self._executor
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, call, *args)
        except BrokenProcessPool:
            # A pool process died (killed, out of memory). The executor then fails
            # every batch in the pool, whether or not it had committed, so each
            # sender is told to retry, which event_id makes safe; the next batch
            # gets a fresh pool.
            if self._executor is executor:
                self._executor = self._new_executor()
                executor.shutdown(wait=False, cancel_futures=True)
            raise StoreUnavailableError("store unavailable: an ingest process stopped") from None

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
