"""End-to-end ingest throughput: ingest alone, and the default server with its pipeline.

Runs a real ``detector serve`` on loopback once per arm, each on a fresh store
(SQLite by default), with the same clients, the same duration and the same sequence
of NDJSON batches of 5,000 gateway-shaped records:

- **ingest alone**: the pipeline off (``DETECTOR_PIPELINE_EMBEDDED=false``), as when
  a ``detector worker`` runs it on another machine;
- **default server**: ``detector serve`` as the README runs it, pipeline embedded.

It prints records/s of each and their ratio; for the default server, how many
records its pipeline had processed when the clients stopped, and how long it took to
catch up after (``GET /v1/pipeline``). For ingest alone, the server's CPU per record,
the fastest of orjson, msgspec and polars merely decoding the same bytes (and the
ratio to it), and the bytes the store keeps per record.

    python -m benchmarks.ingest                       # 25 s per arm, 8 clients
    python -m benchmarks.ingest --seconds 60 --rounds 2
    python -m benchmarks.ingest --records 400000 --arms alone

``--server-source DIR`` runs the servers from another checkout (``git worktree add
/tmp/base main``), so that code before and after a change can be measured
alternately by the same client. By default one server process hands batches to a
pool of ingest processes, one per core; ``--workers 2 --ingest-processes 0``
measures two server processes validating on their own threads instead.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import msgspec
import orjson
import polars as pl
from sqlalchemy import text

from benchmarks.common import make_records, ndjson_batches, print_table
from detector.config import Settings
from detector.store.db import make_engine
from tests.support.server import free_port, wait_ready

TOKEN = "bench-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ARMS = {"alone": "false", "embedded": "true"}  # DETECTOR_PIPELINE_EMBEDDED of each arm

# Every batch is a copy of one of a fixed set of templates, its event ids and times
# rewritten by one bytes.replace each, so that a run of any length posts new records
# in event-time order without building them in Python. A template set spans 10^4 s
# of event time from BASE, written as "170000…"; the n-th copy moves it n·10^4 s
# later by rewriting those six digits as "17" + n. 100,000 records in 10^4 s is
# 36,000 an hour, about the full synthetic scenario's (45M records in 56 days).
BASE = 1_700_000_000
SPAN = 10_000
_TS = (b'"ts_start":170000', b'"ts_end":170000')
_ID = b'"event_id":"c0000-'


@dataclass(frozen=True)
class Feed:
    """The batches every arm posts, in the same order: templates, then copies."""

    templates: list[bytes]
    batch: int

    @classmethod
    def make(cls, records: int, batch: int) -> Feed:
        rows = make_records(records)
        for i, row in enumerate(rows):
            offset = (SPAN - 10) * i / records  # ts_end stays in the same span
            row["event_id"] = f"c0000-{i:012x}"
            row["ts_start"] = round(BASE + offset, 3)
            row["ts_end"] = round(BASE + offset + 2.5, 3)
        return cls(ndjson_batches(rows, batch), batch)

    @property
    def copies(self) -> int:
        """Copies whose times are not in the future (the server refuses those)."""
        return min(10_000, int((time.time() - BASE) // SPAN))

    def body(self, n: int) -> bytes:
        copy, index = divmod(n, len(self.templates))
        if copy >= self.copies:
            raise RuntimeError("ran out of event time: use more --template-records")
        body = self.templates[index]
        if copy:
            for prefix in _TS:
                body = body.replace(prefix, prefix[:-4] + b"%04d" % copy)
            body = body.replace(_ID, b'"event_id":"c%04d-' % copy)
        return body


@dataclass
class Arm:
    name: str
    records: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    http_cpu: float = 0.0
    state: dict[str, object] = field(default_factory=dict)
    caught_up: float | None = None  # seconds after the clients stopped; None: not
    pending: int = 0  # after --catch-up seconds, when not caught up
    db_bytes: int = 0

    @property
    def rate(self) -> float:
        return self.records / self.seconds


def raw_parse_rates(batches: list[bytes]) -> dict[str, float]:
    """Records/s of each parser merely decoding the batches (best of three)."""
    records = sum(batch.count(b"\n") + 1 for batch in batches)
    arrays = [b"[" + b",".join(batch.split(b"\n")) + b"]" for batch in batches]
    parsers = {
        "orjson": lambda: [orjson.loads(body) for body in arrays],
        "msgspec": lambda: [msgspec.json.decode(body) for body in arrays],
        "polars.read_ndjson": lambda: [pl.read_ndjson(io.BytesIO(body)) for body in batches],
    }
    rates = {}
    for name, parse in parsers.items():
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            parse()
            best = min(best, time.perf_counter() - start)
        rates[name] = records / best
    return rates


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of ``pid`` and its descendants (server, pool and
    pipeline processes), from /proc; 0 where there is none. Steadier than records/s
    on a shared machine."""
    return sum(own_cpu_seconds(process) for process in descendants(pid))


def own_cpu_seconds(pid: int) -> float:
    """User and system CPU time of ``pid`` alone; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    found = [pid]
    for child in _children(pid):
        found += descendants(child)
    return found


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found]


async def post_for(url: str, feed: Feed, clients: int, seconds: float, limit: int | None) -> int:
    """Post the feed's batches from ``clients`` connections until ``seconds`` have
    passed (or ``limit`` records are sent); returns the records accepted."""
    numbers: Iterator[int] = itertools.count()
    batches = None if limit is None else -(-limit // feed.batch)
    deadline = time.perf_counter() + seconds
    accepted = 0
    headers = {**AUTH, "Content-Type": "application/x-ndjson"}

    async def client() -> None:
        nonlocal accepted
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as http:
            while limit is not None or time.perf_counter() < deadline:
                n = next(numbers)
                if batches is not None and n >= batches:
                    return
                answer = await http.post("/v1/records", content=feed.body(n))
                answer.raise_for_status()
                accepted += answer.json()["accepted"]

    await asyncio.gather(*(client() for _ in range(clients)))
    return accepted


@contextmanager
def empty_database(base: str | None) -> Iterator[str | None]:
    """A schema of its own on ``base`` (PostgreSQL) for one arm, dropped after; None
    for SQLite, whose file is in the arm's own data directory."""
    if not base:
        yield None
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run_arm(name: str, feed: Feed, args: argparse.Namespace) -> Arm:
    arm = Arm(name)
    with tempfile.TemporaryDirectory() as data_dir, empty_database(args.database_url) as url:
        env = {
            **os.environ,
            "DETECTOR_DATA_DIR": data_dir,
            "DETECTOR_API_TOKENS": TOKEN,
            "DETECTOR_LOG_LEVEL": "warning",
            "DETECTOR_PIPELINE_EMBEDDED": ARMS[name],
        }
        cwd = None
        if args.server_source:
            cwd = str(args.server_source)
            env["PYTHONPATH"] = cwd
        if url:
            env["DETECTOR_DATABASE_URL"] = url
        if args.ingest_processes is not None:
            env["DETECTOR_INGEST_PROCESSES"] = str(args.ingest_processes)
        command = [sys.executable, "-m", "detector.cli"]
        subprocess.run(
            [*command, "db", "upgrade"], env=env, cwd=cwd, check=True, capture_output=True
        )
        port = free_port()
        serve = ["serve", "--port", str(port), "--workers", str(args.workers)]
        server = subprocess.Popen([*command, *serve], env=env, cwd=cwd)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, timeout=60)
            cpu_before, http_before = cpu_seconds(server.pid), own_cpu_seconds(server.pid)
            start = time.perf_counter()
            arm.records = asyncio.run(post_for(url, feed, args.clients, args.seconds, args.records))
            arm.seconds = time.perf_counter() - start
            arm.server_cpu = cpu_seconds(server.pid) - cpu_before
            arm.http_cpu = own_cpu_seconds(server.pid) - http_before
            arm.state = httpx.get(f"{url}/v1/pipeline", headers=AUTH, timeout=60).json()
            if name == "embedded":
                arm.caught_up, arm.pending = wait_caught_up(url, arm.records, args.catch_up)
        finally:
            server.terminate()
            server.wait(timeout=60)
        arm.db_bytes = sum(p.stat().st_size for p in Path(data_dir).glob("detector.db*"))
    assert arm.state["received"] == arm.records, arm.state
    return arm


def wait_caught_up(url: str, records: int, timeout: float) -> tuple[float | None, int]:
    """Seconds until the pipeline has processed ``records``; (None, pending) when it
    has not after ``timeout`` seconds."""
    start = time.perf_counter()
    while True:
        state = httpx.get(f"{url}/v1/pipeline", headers=AUTH, timeout=60).json()
        waited = time.perf_counter() - start
        if state["processed"] >= records:
            return waited, 0
        if waited > timeout:
            return None, records - int(state["processed"])
        time.sleep(0.25)


def _processes(args: argparse.Namespace) -> str:
    if args.ingest_processes is not None:
        return str(args.ingest_processes)
    # The server's own rule, so the figure printed is the pool it runs.
    return f"{Settings(workers=args.workers).resolved_ingest_processes} (default)"


def report(arms: list[Arm], feed: Feed, args: argparse.Namespace) -> None:
    rows: list[tuple[str, str]] = []
    alone = [arm for arm in arms if arm.name == "alone"]
    embedded = [arm for arm in arms if arm.name == "embedded"]
    for arm in alone:
        rows += [
            ("ingest alone (pipeline off)", f"{arm.rate:>12,.0f} records/s"),
            ("  server CPU per record", f"{arm.server_cpu / arm.records * 1e6:>12.2f} µs"),
            ("    of which the HTTP process", f"{arm.http_cpu / arm.records * 1e6:>12.2f} µs"),
            ("  segment bytes per record", f"{_stored(arm) / arm.records:>12.1f}"),
        ]
        if arm.db_bytes:  # SQLite
            rows.append(
                ("  database file bytes per record", f"{arm.db_bytes / arm.records:>12.1f}")
            )
    for arm in embedded:
        processed = int(str(arm.state["processed"]))
        if arm.caught_up is None:
            after = f"{arm.pending:,} still pending {args.catch_up:.0f} s later"
        else:
            after = f"all processed {arm.caught_up:.1f} s later"
        rows += [
            ("default server (pipeline embedded)", f"{arm.rate:>12,.0f} records/s"),
            ("  server CPU per record", f"{arm.server_cpu / arm.records * 1e6:>12.2f} µs"),
            (
                "  processed when the clients stopped",
                f"{processed:>12,} of {arm.records:,} ({processed / arm.records:.0%})",
            ),
            ("  after the clients stopped", after),
        ]
    for one, other in zip(alone, embedded, strict=False):
        rows.append(("default server / ingest alone", f"{other.rate / one.rate:>12.2f}"))
    if alone and not args.no_parse:
        rates = raw_parse_rates(feed.templates[:20])
        fastest = max(rates, key=lambda name: rates[name])
        rows += [
            (f"raw parse, {name}", f"{rate:>12,.0f} records/s") for name, rate in rates.items()
        ]
        rows += [
            (f"ingest alone / raw parse ({fastest})", f"{arm.rate / rates[fastest]:>12.2f}")
            for arm in alone
        ]
    size = sum(len(b) for b in feed.templates) / (len(feed.templates) * feed.batch)
    length = f"{args.records:,} records" if args.records else f"{args.seconds:.0f} s"
    print_table(
        f"ingest: {length} per arm, batches of {feed.batch:,}, {args.clients} clients, "
        f"{args.workers} server workers, ingest processes: {_processes(args)}, "
        f"{size:.0f} B/record, {os.cpu_count()} cores"
        + (f", server from {args.server_source}" if args.server_source else ""),
        rows,
    )


def _stored(arm: Arm) -> int:
    return int(str(arm.state["stored_bytes"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=25.0, help="clients post this long")
    parser.add_argument(
        "--records", type=int, default=None, help="post this many records instead of --seconds"
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--arms", default="alone,embedded", help="comma-separated, from: " + ", ".join(ARMS)
    )
    parser.add_argument("--rounds", type=int, default=1, help="run the arms this many times")
    parser.add_argument(
        "--catch-up", type=float, default=60.0, help="wait this long for the pipeline after"
    )
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument(
        "--template-records",
        type=int,
        default=100_000,
        help=f"records in {SPAN:,} s of event time, repeated later and later",
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument(
        "--ingest-processes", type=int, default=None, help="default: the server's default"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL: a schema of its own per arm; default: SQLite in a temp dir",
    )
    parser.add_argument("--server-source", type=Path, default=None, help="a checkout to serve")
    parser.add_argument("--no-parse", action="store_true", help="skip the raw parse rates")
    args = parser.parse_args()
    names = args.arms.split(",")
    if unknown := set(names) - set(ARMS):
        parser.error(f"--arms: unknown {', '.join(sorted(unknown))}")

    feed = Feed.make(args.template_records, args.batch)
    arms = [run_arm(name, feed, args) for _ in range(args.rounds) for name in names]
    report(arms, feed, args)


if __name__ == "__main__":
    main()
