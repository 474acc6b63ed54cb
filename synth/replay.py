"""``synth replay``: send a generated run to a detector, as a log pipeline would.

Accounts first, then records day by day in event-time order, as NDJSON batches
posted by a few threads at once. A batch that meets a 503 or a dropped connection
is sent again (safe: the server drops duplicates by ``event_id``). At the end the
server's ``received`` count must have grown by exactly what it accepted.
"""

from __future__ import annotations

import gzip
import io
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import polars as pl
import pyarrow.parquet as pq
from tqdm import tqdm

_RETRY_STATUS = frozenset({429, 502, 503, 504})


class ReplayError(RuntimeError):
    """The server refused a batch for good, or the counts do not add up."""


@dataclass
class Tally:
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    retries: int = 0

    def add(self, answer: dict[str, int], sent: int) -> None:
        self.sent += sent
        self.accepted += answer["accepted"]
        self.duplicates += answer["duplicates"]
        self.rejected += answer["rejected"]


@dataclass
class ReplayResult:
    accounts: Tally
    records: Tally
    received_before: int
    received_after: int

    @property
    def consistent(self) -> bool:
        """Every record answered for, none rejected, and the server's count agrees."""
        r = self.records
        return (
            r.rejected == 0
            and self.accounts.rejected == 0
            and r.accepted + r.duplicates == r.sent
            and self.received_after - self.received_before == r.accepted
        )


class Sender:
    """Posts NDJSON batches with retries; thread-safe (one shared httpx client)."""

    def __init__(
        self, url: str, token: str, *, compress: bool, retries: int, timeout: float
    ) -> None:
        self.client = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            limits=httpx.Limits(max_connections=16),
        )
        self.compress = compress
        self.retries = retries

    def close(self) -> None:
        self.client.close()

    def received(self) -> int:
        try:
            answer = self.client.get("/v1/pipeline")
        except httpx.TransportError as exc:
            raise ReplayError(f"GET /v1/pipeline: {exc!r}") from exc
        if answer.status_code != 200:
            raise ReplayError(f"GET /v1/pipeline: HTTP {answer.status_code}: {answer.text[:300]}")
        return int(answer.json()["received"])

    def post(self, path: str, body: bytes) -> tuple[dict[str, int], int]:
        """Answer of the server and how many retries it took."""
        headers = {"Content-Type": "application/x-ndjson"}
        if self.compress:
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        for attempt in range(self.retries + 1):
            try:
                answer = self.client.post(path, content=body, headers=headers)
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise ReplayError(f"{path}: {exc!r} after {attempt} retries") from exc
            else:
                if answer.status_code == 200:
                    result: dict[str, int] = answer.json()
                    return result, attempt
                if answer.status_code not in _RETRY_STATUS or attempt == self.retries:
                    raise ReplayError(f"{path}: HTTP {answer.status_code}: {answer.text[:300]}")
            time.sleep(min(0.2 * 2**attempt, 5.0))
        raise AssertionError("unreachable")


def _ndjson(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ndjson(buffer)
    return buffer.getvalue()


def record_files(run: Path) -> list[Path]:
    """The day files of a run in date order, Parquet preferred."""
    days = sorted((run / "records").glob("*.parquet"))
    return days or sorted((run / "records").glob("*.ndjson"))


def record_batches(run: Path, size: int) -> Iterator[tuple[bytes, int]]:
    """NDJSON bodies of at most ``size`` records, in event-time order."""
    for path in record_files(run):
        if path.suffix == ".parquet":
            frame = pl.from_arrow(pq.read_table(path))
        else:
            frame = pl.read_ndjson(path)
        assert isinstance(frame, pl.DataFrame)
        for offset in range(0, frame.height, size):
            part = frame.slice(offset, size)
            yield _ndjson(part), part.height


def count_records(run: Path) -> int:
    total = 0
    for path in record_files(run):
        if path.suffix == ".parquet":
            total += pq.ParquetFile(path).metadata.num_rows
        else:
            with path.open("rb") as handle:
                total += sum(1 for _ in handle)
    return total


def replay(
    run: Path,
    url: str,
    token: str,
    *,
    batch_size: int = 5_000,
    concurrency: int = 4,
    compress: bool = False,
    retries: int = 8,
    timeout: float = 120.0,
    progress: bool = True,
) -> ReplayResult:
    """Send ``run`` to the detector at ``url`` and compare counts with its pipeline."""
    if not (run / "accounts.ndjson").is_file():
        raise ReplayError(f"{run}: no accounts.ndjson; is it the --out of synth generate?")
    sender = Sender(url, token, compress=compress, retries=retries, timeout=timeout)
    try:
        before = sender.received()
        accounts = Tally()
        lines = (run / "accounts.ndjson").read_bytes().splitlines(keepends=True)
        for offset in range(0, len(lines), batch_size):
            part = lines[offset : offset + batch_size]
            answer, tries = sender.post("/v1/accounts", b"".join(part))
            accounts.add(answer, len(part))
            accounts.retries += tries
        records = Tally()
        bar = tqdm(total=count_records(run), unit="rec", disable=not progress, desc="replay")
        # A bounded window of batches in flight keeps memory flat and the arrival
        # order close to event time.
        window: deque[tuple[Future[tuple[dict[str, int], int]], int]] = deque()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:

            def settle() -> None:
                future, sent = window.popleft()
                answer, tries = future.result()
                records.add(answer, sent)
                records.retries += tries
                bar.update(sent)

            for body, count in record_batches(run, batch_size):
                window.append((pool.submit(sender.post, "/v1/records", body), count))
                if len(window) >= 2 * concurrency:
                    settle()
            while window:
                settle()
        bar.close()
        after = sender.received()
    finally:
        sender.close()
    return ReplayResult(accounts, records, before, after)
