"""The scaled-out deployment's scaling curve: stage 1 on 1 and 2 cores, stage 2's cost.

Writes the same gateway-shaped records (``common.make_records``, squeezed into
``--hours`` of event time) as ``.json.zst`` files, as ingest replicas export them,
then:

- runs stage 1 (``detector.scaleout.stage1``) on ``local[1]`` and on ``local[2]``,
  each from a fresh checkpoint into a fresh SQLite store, reading ``--per-trigger``
  files a micro-batch, and prints records/s of each (from the query's start to its
  end; the Spark session's start is not counted) and their ratio;
- feeds the aggregates of the ``local[2]`` run to stage 2 (``Stage2``'s ``Feeder``)
  and prints its cost per aggregate row (one account in one window), ticks included,
  and what that makes one tick of ``--project-accounts`` accounts cost.

    python -m benchmarks.scaleout                     # 200,000 records, 2,000 accounts, 24 h
    python -m benchmarks.scaleout --records 60000 --accounts 1000 --hours 12

On a shared machine, run it while nothing else does, or read the figures as those of
a loaded one. docs/operations.md quotes its figures and projects them to N workers.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import orjson
import zstandard

from benchmarks.common import make_records, print_table
from detector.pipeline.engine import Engine, EngineConfig
from detector.scaleout.spark import session
from detector.scaleout.stage1 import Job, run
from detector.scaleout.stage2 import Feeder, read_meta
from detector.scoring.scorer import ClusterScorer
from detector.store.aggregates import parts_after
from detector.store.db import make_engine
from detector.store.migrate import upgrade

# The full scenario (scale 1.0, docs/detection.md) holds 71,448 accounts.
FULL_SCENARIO_ACCOUNTS = 71_448


def write_files(directory: Path, *, records: int, hours: int, per_file: int, accounts: int) -> int:
    """``records`` records of at most ``accounts`` accounts over ``hours`` of event
    time, ``per_file`` to a file, in event-time order; returns how many accounts
    they hold."""
    made = make_records(records)
    first = float(made[0]["ts_start"])  # type: ignore[arg-type]
    span = float(made[-1]["ts_start"]) - first  # type: ignore[arg-type]
    for record in made:
        at = first + (float(record["ts_start"]) - first) / span * hours * 3600  # type: ignore[arg-type]
        record["ts_start"] = round(at, 3)
        record.pop("ts_end")
        record["account_id"] = f"acct_{int(str(record['account_id'])[5:]) % accounts:06d}"
    directory.mkdir(parents=True)
    compressor = zstandard.ZstdCompressor(level=1)
    for index, start in enumerate(range(0, len(made), per_file)):
        body = b"\n".join(orjson.dumps(r) for r in made[start : start + per_file])
        path = directory / f"{index:06d}.json.zst"
        path.write_bytes(compressor.compress(body))
        os.utime(path, (1_700_000_000 + index, 1_700_000_000 + index))
    return len({r["account_id"] for r in made})


def stage1(cores: int, files: Path, work: Path, *, per_trigger: int) -> tuple[float, str]:
    """Seconds stage 1 took on ``local[cores]``; the database it wrote."""
    url = f"sqlite:///{work / f'cores{cores}.db'}"
    upgrade(url)
    spark = session(f"local[{cores}]", partitions=2)
    try:
        job = Job(
            source=files,
            checkpoint=work / f"checkpoint{cores}",
            database_url=url,
            files_per_trigger=per_trigger,
        )
        began = time.perf_counter()
        run(spark, job, available_now=True)
        return time.perf_counter() - began, url
    finally:
        spark.stop()


def stage2(url: str) -> tuple[float, int, int]:
    """Seconds stage 2 took over every aggregate in ``url``, the account rows it
    took in, and the windows."""
    db = make_engine(url)
    with db.connect() as conn:
        parts = parts_after(conn, after_batch=-1)
    config = EngineConfig()
    engine = Engine(config=config, scorer=ClusterScorer(threshold=config.threshold))
    engine.set_meta(read_meta(db))
    began = time.perf_counter()
    Feeder(engine).feed(parts)
    engine.settle()
    took = time.perf_counter() - began
    rows = sum(p.rows for p in parts if p.part == "accounts")
    windows = len({p.window_start for p in parts if p.part == "accounts"})
    db.dispose()
    return took, rows, windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--per-file", type=int, default=20_000)
    parser.add_argument("--per-trigger", type=int, default=5)
    parser.add_argument("--project-accounts", type=int, default=10 * FULL_SCENARIO_ACCOUNTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scaleout-bench-") as tmp:
        work = Path(tmp)
        files = work / "segments"
        accounts = write_files(
            files,
            records=args.records,
            hours=args.hours,
            per_file=args.per_file,
            accounts=args.accounts,
        )
        one, _ = stage1(1, files, work, per_trigger=args.per_trigger)
        two, url = stage1(2, files, work, per_trigger=args.per_trigger)
        took, rows, windows = stage2(url)
    per_row = took / max(1, rows)
    config = EngineConfig()
    tick_rows = args.project_accounts * config.tick_windows
    tick_seconds = config.window_seconds * config.tick_windows
    print_table(
        f"Stage 1: {args.records:,} records, {accounts:,} accounts, {args.hours} h",
        [
            ("local[1]", f"{args.records / one:,.0f} records/s ({one:.1f} s)"),
            ("local[2]", f"{args.records / two:,.0f} records/s ({two:.1f} s)"),
            ("local[2] / local[1]", f"{one / two:.2f}x"),
        ],
    )
    # Two points fit Amdahl's law: a fixed part (the driver's work per micro-batch,
    # the sink's transactions) and a part spread over the cores (the records).
    spread = 2 * (one - two)
    fixed = max(0.0, one - spread)
    print_table(
        "Stage 1 projected (fixed + spread / cores, fitted to the two runs)",
        [("fixed", f"{fixed:.1f} s"), ("spread", f"{spread:.1f} core-s")]
        + [
            (f"{cores} cores", f"{args.records / (fixed + spread / cores):,.0f} records/s")
            for cores in (4, 8, 16, 32)
        ],
    )
    print_table(
        f"Stage 2: {rows:,} account rows in {windows} windows",
        [
            ("total", f"{took:.2f} s"),
            ("per aggregate row", f"{per_row * 1e6:,.1f} µs"),
            (
                f"a tick of {args.project_accounts:,} accounts",
                f"{tick_rows * per_row:,.0f} s for {tick_rows:,} rows "
                f"(the tick interval: {tick_seconds:,} s)",
            ),
        ],
    )


if __name__ == "__main__":
    main()
