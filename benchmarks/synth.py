"""Benchmark of ``synth generate``: the full scenario to Parquet, with a naive baseline.

    .venv/bin/python -m benchmarks.synth [--scale 1.0] [--out DIR] [--baseline-records 20000]

Prints records/s and peak RSS of the vectorised generator, and beside it a naive
generator that builds one ``detector.schema.Record`` per call with seeded Faker
and Python's ``random`` (the obvious first implementation), timed on a prefix.
Goal (issue 3): >= 41M records in <= 3 minutes with peak RSS < 4 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import msgspec
from faker import Faker

from benchmarks.common import peak_rss_mb
from detector.schema import Record
from synth.generate import generate
from synth.scenario import Scenario


def naive(count: int, seed: int) -> float:
    """Records per second of a per-record Faker generator, encoded to NDJSON."""
    fake = Faker()
    fake.seed_instance(seed)
    rnd = random.Random(seed)
    encoder = msgspec.json.Encoder()
    accounts = [fake.uuid4() for _ in range(1_000)]
    ips = [fake.ipv4_public() for _ in range(1_000)]
    began = time.perf_counter()
    lines = []
    for i in range(count):
        start = 1_767_571_200 + rnd.random() * 56 * 86_400
        record = Record(
            event_id=fake.uuid4(),
            ts_start=start,
            ts_end=start + rnd.random() * 30,
            account_id=rnd.choice(accounts),
            request_model=rnd.choice(["claude-opus-4-5", "claude-sonnet-4-5"]),
            client_ip=rnd.choice(ips),
            user_agent=fake.user_agent(),
            input_tokens=rnd.randint(10, 20_000),
            output_tokens=rnd.randint(1, 4_000),
            tool_names=rnd.choice([None, ["bash", "read_file"]]),
            system_fingerprint=fake.md5(),
            prompt_fingerprint=fake.md5(),
            template_fingerprint=fake.md5(),
            message_count=rnd.randint(1, 30),
            stream=i % 2 == 0,
        )
        lines.append(encoder.encode(record))
    return count / (time.perf_counter() - began)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary directory")
    parser.add_argument("--baseline-records", type=int, default=20_000)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="synth-bench-"))
    try:
        load_before = os.getloadavg()[0]
        summary = generate(Scenario(scale=args.scale), out)
        load_after = os.getloadavg()[0]
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu = usage.ru_utime + usage.ru_stime
        rate = summary.records / summary.seconds
        peak = peak_rss_mb()
        baseline = naive(args.baseline_records, seed=1)
        size = sum(f.stat().st_size for f in (out / "records").iterdir()) / 1e9
        print(
            f"synth generate --scale {args.scale}: {summary.records:,} records, "
            f"{summary.accounts:,} accounts, {summary.days} days"
        )
        print(f"  wall time      {summary.seconds:8.1f} s   (goal <= 180 s at scale 1.0)")
        print(f"  throughput     {rate:12,.0f} records/s")
        print(f"  CPU time       {cpu:8.1f} s   (user + system, both threads)")
        print(f"  load average   {load_before:8.1f} -> {load_after:.1f}  (2 cores, shared machine)")
        print(f"  peak RSS       {peak:8.0f} MB  (goal < 4096 MB)")
        print(f"  Parquet size   {size:8.2f} GB")
        print(f"naive per-record Faker + msgspec baseline ({args.baseline_records:,} records):")
        ratio = rate / baseline
        print(f"  throughput     {baseline:12,.0f} records/s   -> vectorised is {ratio:,.0f}x")
        print(f"  same volume    {summary.records / baseline / 60:8.1f} min (extrapolated)")
        ok = args.scale < 1.0 or (summary.seconds <= 180 and peak < 4096)
        return 0 if ok else 1
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
