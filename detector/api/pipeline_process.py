"""The embedded pipeline: a child process of ``detector serve``, started and stopped
with it, at a lower CPU priority than ingest.

In a thread of the server the pipeline's polars threads took the cores at the same
priority as the ingest processes, and a busy ingest ran at about half its rate
(docs/operations.md has the figures). In a process of its own the pipeline runs
``nice``: while batches arrive, the kernel gives the cores to ingest first and the
pipeline what is left; when ingest pauses, the pipeline has the cores and catches up.

Who owns what: the server's event-loop thread starts the process (``start``), checks
that it lives and starts another if it died (``watch``); ``flush`` is called from a
request's worker thread and holds ``_lock`` while its command and answer cross the
pipe; ``stop`` sends the last command. In the child, a ``BackgroundWorker`` thread
steps the pipeline and the main thread answers commands; both share one
``PipelineRunner``, which runs one step at a time. The lease in the store keeps any
other pipeline worker (a ``detector worker``) from running beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import logging.config
import multiprocessing
import os
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from detector.config import Settings
from detector.errors import StoreUnavailableError
from detector.observability.logs import log_config

log = logging.getLogger("detector.pipeline")

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_FLUSH, _STOP = "flush", "stop"


class FlushRefused(Exception):
    """Another pipeline worker holds the lease; the message names it."""


class PipelineStopped(Exception):
    """The pipeline process is not running (it died and is being started again)."""


def _main(settings: Settings, server: int, commands: Connection, windows: Connection) -> None:
    """The child process: step the pipeline in a thread, answer commands here, and
    send each closed window's time to the server, whose ``/metrics`` shows them."""
    # The server stops this process once it has answered its requests; Ctrl-C reaches
    # the whole process group and a service manager may signal every process of the
    # service: neither must cut a checkpoint short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        # A server killed outright takes its pipeline with it; if it died before this
        # line ran, the signal will never come, so go now.
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != server:
            os._exit(1)
    # Before any thread starts (polars starts its own when it is first used), so
    # that every thread of the process runs at this priority: Linux's nice value is
    # a thread's, inherited by the threads it starts.
    os.nice(settings.pipeline_nice)
    logging.config.dictConfig(log_config(settings, json=settings.log_format == "json"))

    from detector.observability.metrics import forward_windows
    from detector.pipeline.service import make_runner
    from detector.pipeline.worker import BackgroundWorker
    from detector.store.db import make_engine

    # One step at a time sends (the runner's lock), so the connection needs no lock
    # of its own; the server reads it every second.
    forward_windows(windows.send)
    engine = make_engine(
        settings.resolved_database_url, sqlite_busy_timeout=settings.sqlite_busy_timeout
    )
    runner = make_runner(engine, settings)
    worker = BackgroundWorker(runner, interval=settings.pipeline_poll_seconds)
    windows.send(None)  # started: before the worker can take the lease (see ``stop``)
    worker.start()
    log.info("embedded pipeline %s started (nice %d)", runner.holder, os.nice(0))
    try:
        while True:
            try:
                command = commands.recv()
            except EOFError:  # the server is gone
                return
            if command == _STOP:
                return
            try:
                if not runner.try_lease():
                    commands.send(("held", runner.status()["worker"]))
                    continue
                runner.run_until_idle(flush=True)
                commands.send(("flushed", None))
            except StoreUnavailableError as exc:
                commands.send(("unavailable", str(exc)))
            except Exception as exc:
                log.exception("pipeline flush failed")
                commands.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        worker.stop()  # ends the step under way and releases the lease
        commands.close()


class PipelineProcess:
    """The pipeline in a child process, for the server that starts it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._commands: Connection | None = None
        self._windows: Connection | None = None
        # Whether the child said it started its pipeline; until then it holds nothing.
        self._started = False
        self._stopping = False

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        """Start the process; call from the thread that lives as long as the server
        (the event loop's): Linux sends the parent-death signal when the thread that
        started a process ends, not only the process."""
        # spawn, not fork: the server has threads, whose locks a fork would copy in
        # whatever state they were.
        ours, theirs = self._context.Pipe()
        windows, sent = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=_main,
            args=(self.settings, os.getpid(), theirs, sent),
            name="detector-pipeline",
            daemon=False,
        )
        process.start()
        # Closed here, so that reading sees the child's ends close when it dies.
        theirs.close()
        sent.close()
        self._process, self._commands, self._windows = process, ours, windows
        self._started = False

    def _drain_windows(self) -> None:
        """Put the window times the child sent into this process's histogram."""
        # Imported here: at the top it would bring polars into the child before its
        # priority is set (the metrics import the ingest path).
        from detector.observability.metrics import observe_window

        windows = self._windows
        try:
            while windows is not None and windows.poll():
                seconds = windows.recv()
                if seconds is None:
                    self._started = True
                else:
                    observe_window(seconds)
        except (EOFError, OSError):
            pass  # the child is gone; ``watch`` starts another with a new pipe

    async def watch(self) -> None:
        """Start the process again whenever it died (killed, out of memory)."""
        while not self._stopping:
            await asyncio.sleep(self.settings.pipeline_poll_seconds)
            self._drain_windows()
            process = self._process
            if self._stopping or process is None or process.is_alive():
                continue
            # A flush under way holds the lock until it sees the pipe close.
            if not self._lock.acquire(blocking=False):
                continue
            try:
                if not self._stopping:
                    log.error(
                        "the pipeline process stopped (exit code %s); starting another",
                        process.exitcode,
                    )
                    self.start()
            finally:
                self._lock.release()

    def flush(self) -> None:
        """Process everything received so far and close every window, in the child;
        returns once it is checkpointed. ``FlushRefused`` when another worker holds
        the lease, ``PipelineStopped`` when the process is not running,
        ``StoreUnavailableError`` as the child met it."""
        with self._lock:
            if self._commands is None or self._stopping:
                raise PipelineStopped("the pipeline process is not running")
            try:
                self._commands.send(_FLUSH)
                outcome, detail = self._commands.recv()
            except (EOFError, OSError):
                raise PipelineStopped("the pipeline process stopped during the flush") from None
        if outcome == "held":
            raise FlushRefused(f"the pipeline runs in another process ({detail}); flush it there")
        if outcome == "unavailable":
            raise StoreUnavailableError(str(detail))
        if outcome == "failed":
            raise RuntimeError(f"pipeline flush failed: {detail}")

    def stop(self, timeout: float = 90.0) -> None:
        """Let the child end its step, release the lease and exit; kill it after
        ``timeout`` seconds."""
        self._stopping = True
        process, commands = self._process, self._commands
        if process is None or commands is None:
            return
        self._drain_windows()
        if not self._started:
            # Still starting (importing, for a second or two): it holds no lease and
            # no state yet, so there is nothing to wait for.
            process.kill()
        # A flush under way ends before the server shuts down (uvicorn answers its
        # requests first), so the lock is free but for a moment.
        with self._lock, contextlib.suppress(OSError):  # OSError: already gone
            commands.send(_STOP)
        # Read its window times meanwhile: a full pipe would hold up its last step.
        deadline = time.monotonic() + timeout
        while process.is_alive() and time.monotonic() < deadline:
            process.join(0.5)
            self._drain_windows()
        if process.is_alive():
            log.warning("the pipeline process did not stop in %.0f s: killing it", timeout)
            process.kill()
            process.join()
        self._drain_windows()
        commands.close()
