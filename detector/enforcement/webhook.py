"""Delivering decision webhooks from the outbox, signed, with retries.

A decision writes its delivery row in its own transaction (``store.reviews.decide``);
this module POSTs due rows and reschedules failures with exponential backoff until
``webhook_max_attempts``, after which the row stays as ``failed`` for an operator to
see. Delivery is at least once: a receiver deduplicates on ``X-Detector-Delivery``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta

import httpx
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine, select, update

from detector.config import Settings
from detector.enforcement.signing import HEADER, sign
from detector.store.db import write_transaction
from detector.store.review_models import WebhookDeliveryRow

log = logging.getLogger("detector.webhook")

# Backoff doubles from the base up to this cap: 1 s, 2 s, 4 s … 5 min.
MAX_BACKOFF = timedelta(minutes=5)
# A claimed row is not picked again for this long, so two server processes do not
# POST the same delivery at once.
CLAIM = timedelta(seconds=60)


def backoff(attempts: int, base: float) -> timedelta:
    return min(timedelta(seconds=base * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def deliver_due(
    engine: Engine, client: httpx.Client, settings: Settings, *, now: datetime, limit: int = 20
) -> int:
    """POST every due delivery once; returns how many were delivered."""
    with write_transaction(engine) as conn:
        due = conn.execute(
            select(WebhookDeliveryRow.id, WebhookDeliveryRow.next_attempt_at)
            .where(WebhookDeliveryRow.state == "pending", WebhookDeliveryRow.next_attempt_at <= now)
            .order_by(WebhookDeliveryRow.id)
            .limit(limit)
        ).all()
        claimed = []
        for delivery_id, due_at in due:
            taken = conn.execute(
                update(WebhookDeliveryRow)
                .where(
                    WebhookDeliveryRow.id == delivery_id,
                    WebhookDeliveryRow.next_attempt_at == due_at,
                )
                .values(next_attempt_at=now + CLAIM)
            )
            if taken.rowcount == 1:
                claimed.append(delivery_id)
    delivered = 0
    for delivery_id in claimed:
        delivered += _attempt(engine, client, settings, delivery_id)
    return delivered


def _attempt(engine: Engine, client: httpx.Client, settings: Settings, delivery_id: int) -> int:
    with engine.connect() as conn:
        row = conn.execute(
            select(WebhookDeliveryRow.__table__).where(WebhookDeliveryRow.id == delivery_id)
        ).one()
        url, body, attempts = row.url, row.payload.encode(), row.attempts + 1
    secret = settings.webhook_secret.get_secret_value()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "distillation-detector-webhook/1",
        "X-Detector-Delivery": str(delivery_id),
        HEADER: sign(secret, int(time.time()), body),
    }
    error: str | None = None
    try:
        answer = client.post(url, content=body, headers=headers)
        if not answer.is_success:
            error = f"HTTP {answer.status_code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    now = datetime.now(UTC)
    values: dict[str, object] = {"attempts": attempts, "last_error": error}
    if error is None:
        values.update(state="delivered", delivered_at=now)
    elif attempts >= settings.webhook_max_attempts:
        values.update(state="failed")
        log.error("webhook %s to %s failed for good: %s", delivery_id, url, error)
    else:
        values["next_attempt_at"] = now + backoff(attempts, settings.webhook_backoff_seconds)
        log.warning("webhook %s to %s: %s (attempt %d)", delivery_id, url, error, attempts)
    with write_transaction(engine) as conn:
        conn.execute(
            update(WebhookDeliveryRow).where(WebhookDeliveryRow.id == delivery_id).values(**values)
        )
    return 1 if error is None else 0


class WebhookWorker:
    """Delivers the outbox in the background of the API process.

    It wakes when a decision nudges it and otherwise every ``poll`` seconds, which is
    what picks up retries and deliveries left by a process that stopped.
    """

    def __init__(self, engine: Engine, settings: Settings, *, poll: float = 1.0) -> None:
        self._engine = engine
        self._settings = settings
        self._poll = poll
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return bool(self._settings.webhook_url)

    def nudge(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        if self.enabled and self._task is None:
            self._task = asyncio.create_task(self._run(), name="webhook-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        timeout = self._settings.webhook_timeout_seconds
        with httpx.Client(timeout=timeout) as client:
            while True:
                try:
                    await run_in_threadpool(
                        deliver_due, self._engine, client, self._settings, now=datetime.now(UTC)
                    )
                except Exception:  # the worker outlives a bad round; the row stays due
                    log.exception("webhook delivery round failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
                self._wake.clear()
