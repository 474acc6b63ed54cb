"""Settling what time and the pipeline change: snoozes that are due wake up, closed
cases that came back reopen as regressed.

The queue settles before it is read, and a background task settles every minute, so
``GET /v1/cases?status=open`` shows woken and regressed cases even when nobody has
the dashboard open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine

from detector.store.db import write_transaction
from detector.store.reviews import due_regressions, due_snoozes, mark_regressions, wake_snoozed

log = logging.getLogger("detector.dashboard")


def settle(engine: Engine, *, now: datetime) -> list[str]:
    """Wake due snoozes and reopen regressions; the ids of the cases that changed.

    The write lock is taken only when there is something to settle: a page view must
    not queue behind the pipeline's writes for nothing.
    """
    with engine.connect() as conn:
        if not (due_snoozes(conn, now=now) or due_regressions(conn)):
            return []
    with write_transaction(engine) as conn:
        return wake_snoozed(conn, now=now) + mark_regressions(conn, now=now)


class Sweeper:
    """Runs ``settle`` every ``interval`` seconds in the API process."""

    def __init__(self, engine: Engine, *, interval: float = 60.0) -> None:
        self._engine = engine
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="review-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                changed = await run_in_threadpool(settle, self._engine, now=datetime.now(UTC))
                if changed:
                    log.info("settled %d cases (woken or regressed)", len(changed))
            except Exception:  # the next round retries; a page view settles too
                log.exception("review sweep failed")
            await asyncio.sleep(self._interval)
