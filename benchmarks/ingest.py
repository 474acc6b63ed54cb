"""End-to-end ingest throughput against the raw parse rate of the same bytes.

Runs a real ``detector serve`` on loopback (SQLite by default), posts NDJSON batches
of 5,000 synthetic-looking records from concurrent clients, and prints records/s end
to end next to the fastest of orjson, msgspec and polars merely decoding the same
bytes, with the ratio, and the bytes the store keeps per record.

    python -m benchmarks.ingest --records 500000 --clients 4

By default one server process hands batches to a pool of ingest processes, one per
core; ``--workers 2 --ingest-processes 0`` measures two server processes validating
on their own threads instead.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import msgspec
import orjson
import polars as pl

from benchmarks.common import make_records, ndjson_batches, print_table
from detector.config import Settings
from tests.support.server import free_port, wait_ready

TOKEN = "bench-token"


def raw_parse_rates(batches: list[bytes], records: int) -> dict[str, float]:
    """Records/s of each parser merely decoding the batches (best of three)."""
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
    """User and system CPU time of ``pid`` and its descendants (server and pool
    processes), from /proc; 0 where there is none. Steadier than records/s on a
    shared machine."""
    return sum(own_cpu_seconds(process) for process in _descendants(pid))


def own_cpu_seconds(pid: int) -> float:
    """User and system CPU time of ``pid`` alone; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _descendants(pid: int) -> list[int]:
    found = [pid]
    for child in _children(pid):
        found += _descendants(child)
    return found


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found]


def _processes(args: argparse.Namespace) -> str:
    if args.ingest_processes is not None:
        return str(args.ingest_processes)
    # The server's own rule, so the figure printed is the pool it runs.
    return f"{Settings(workers=args.workers).resolved_ingest_processes} (default)"


async def post_all(url: str, batches: list[bytes], clients: int) -> float:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-ndjson"}

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as http:
            while not queue.empty():
                body = queue.get_nowait()
                answer = await http.post("/v1/records", content=body)
                answer.raise_for_status()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument(
        "--ingest-processes", type=int, default=None, help="default: the server's default"
    )
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    args = parser.parse_args()

    records = make_records(args.records)
    batches = ndjson_batches(records, args.batch)
    size = sum(len(b) for b in batches)
    rates = raw_parse_rates(batches, args.records)
    fastest = max(rates, key=lambda name: rates[name])

    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "DETECTOR_DATA_DIR": data_dir, "DETECTOR_API_TOKENS": TOKEN}
        if args.database_url:
            env["DETECTOR_DATABASE_URL"] = args.database_url
        if args.ingest_processes is not None:
            env["DETECTOR_INGEST_PROCESSES"] = str(args.ingest_processes)
        subprocess.run(
            [sys.executable, "-m", "detector.cli", "db", "upgrade"],
            env=env,
            check=True,
            capture_output=True,
        )
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "detector.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
            # Ingest alone: the pipeline runs in its own process in production
            # (`detector worker`) and would take the same two cores here.
            env={**env, "DETECTOR_LOG_LEVEL": "warning", "DETECTOR_PIPELINE_EMBEDDED": "false"},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url)
            cpu_before, http_before = cpu_seconds(server.pid), own_cpu_seconds(server.pid)
            elapsed = asyncio.run(post_all(url, batches, args.clients))
            server_cpu = cpu_seconds(server.pid) - cpu_before
            http_cpu = own_cpu_seconds(server.pid) - http_before
            state = httpx.get(
                f"{url}/v1/pipeline", headers={"Authorization": f"Bearer {TOKEN}"}
            ).json()
        finally:
            server.terminate()
            server.wait(timeout=30)
        db_bytes = sum(p.stat().st_size for p in Path(data_dir).glob("detector.db*"))

    end_to_end = args.records / elapsed
    assert state["received"] == args.records, state
    print_table(
        f"ingest: {args.records:,} records, {len(batches)} batches of {args.batch:,}, "
        f"{args.clients} clients, {args.workers} server workers, "
        f"ingest processes: {_processes(args)}, "
        f"{size / args.records:.0f} B/record",
        [
            *[(f"raw parse, {name}", f"{rate:>12,.0f} records/s") for name, rate in rates.items()],
            ("end to end (HTTP, validate, dedupe, fsync)", f"{end_to_end:>12,.0f} records/s"),
            ("server CPU per record", f"{server_cpu / args.records * 1e6:>12.2f} µs"),
            ("  of which the HTTP process", f"{http_cpu / args.records * 1e6:>12.2f} µs"),
            (f"ratio to fastest raw parse ({fastest})", f"{end_to_end / rates[fastest]:>12.2f}"),
            ("segment bytes per record", f"{state['stored_bytes'] / args.records:>12.1f}"),
            ("database file bytes per record", f"{db_bytes / args.records:>12.1f}"),
        ],
    )


if __name__ == "__main__":
    main()
