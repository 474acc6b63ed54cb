"""Pipeline benchmark: a synth scenario from the store to cases, against a baseline.

1. The scenario's records go through the real ingest path into a store (not timed
   as pipeline work; reported separately).
2. The pipeline processes every stored segment to cases (``PipelineRunner``, the code
   ``detector serve`` and ``detector worker`` run): wall time, records/s, peak RSS,
   and RSS as the stream grows (flat memory means bounded state).
3. The baseline a user might write instead: river's ``HalfSpaceTrees`` scoring every
   record (score, then learn) on a prefix of the same stream.
4. ROC-AUC of both on account labels (campaign vs honest): an account's detector
   score is the highest score of a case holding it (0 if none); its baseline score
   is the mean score of its records.

Usage: ``python -m benchmarks.pipeline [--scenario DIR]``: a ``synth generate`` output,
or without it the full scenario (``--scale``, 1.0 by default) generated into a
temporary directory first. Loading the full scenario takes longer than processing it:
with ``--keep-store FILE`` the loaded SQLite store is kept there, and a later run with
the same option copies it instead of loading again.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

import polars as pl
from river import anomaly
from sklearn.metrics import roc_auc_score
from sqlalchemy import select

from benchmarks.common import peak_rss_mb, print_table
from detector.config import Settings
from detector.ingest.service import Ingestor
from detector.pipeline.engine import EngineConfig
from detector.pipeline.runner import PipelineRunner
from detector.store.db import make_engine
from detector.store.event_log import totals
from detector.store.migrate import upgrade
from detector.store.pipeline_models import CaseAccountRow, CaseRow
from synth.generate import generate
from synth.scenario import Scenario


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def load(scenario: Path, ingestor: Ingestor, batch: int) -> tuple[int, float]:
    started = time.perf_counter()
    accounts = (scenario / "accounts.ndjson").read_bytes().splitlines()
    for start in range(0, len(accounts), batch):
        ingestor.accounts(b"\n".join(accounts[start : start + batch]), "ndjson")
    total = 0
    for path in sorted((scenario / "records").glob("*.parquet")):
        frame = pl.read_parquet(path).sort("ts_start")
        for start in range(0, frame.height, batch):
            # polars writes the NDJSON (nulls included, which the contract accepts):
            # a Python loop over rows took longer than ingesting them.
            body = io.BytesIO()
            frame.slice(start, batch).write_ndjson(body)
            total += ingestor.records(body.getvalue(), "ndjson").accepted
    return total, time.perf_counter() - started


def record_features(frame: pl.DataFrame) -> pl.DataFrame:
    """Per-record numbers a user would feed a per-record anomaly detector, in 0–1."""
    return frame.select(
        "account_id",
        (pl.col("input_tokens").fill_null(0).log1p() / 12).clip(0, 1).alias("inp"),
        (pl.col("output_tokens").fill_null(0).log1p() / 10).clip(0, 1).alias("out"),
        (
            pl.col("cache_read_input_tokens").fill_null(0)
            / pl.col("input_tokens").fill_null(0).clip(1, None)
        )
        .clip(0, 1)
        .alias("cache"),
        (pl.col("tool_names").list.len().fill_null(0) / 10).clip(0, 1).alias("tools"),
        (pl.col("reasoning_mode").fill_null("none") != "none").cast(pl.Float64).alias("reason"),
        ((pl.col("ts_start") % 86_400) / 86_400).alias("hour"),
        (pl.col("image_inputs").fill_null(0) > 0).cast(pl.Float64).alias("vision"),
    )


def baseline(scenario: Path, limit: int) -> tuple[int, float, dict[str, float]]:
    """HalfSpaceTrees over every record of the first ``limit`` records."""
    model = anomaly.HalfSpaceTrees(n_trees=10, height=8, window_size=250, seed=7)
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    seen = 0
    started = time.perf_counter()
    for path in sorted((scenario / "records").glob("*.parquet")):
        frame = record_features(pl.read_parquet(path).sort("ts_start"))
        for row in frame.iter_rows(named=True):
            account = row.pop("account_id")
            score = model.score_one(row)  # type: ignore[no-untyped-call]
            model.learn_one(row)  # type: ignore[no-untyped-call]
            sums[account] = sums.get(account, 0.0) + score
            counts[account] = counts.get(account, 0) + 1
            seen += 1
            if seen >= limit:
                break
        if seen >= limit:
            break
    seconds = time.perf_counter() - started
    return seen, seconds, {a: sums[a] / counts[a] for a in sums}


def auc(truth: pl.DataFrame, scores: dict[str, float]) -> float:
    labels = (truth["label"] != "honest").to_list()
    values = [scores.get(a, 0.0) for a in truth["account_id"].to_list()]
    return float(roc_auc_score(labels, values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenario", type=Path, default=None, help="default: generate one at --scale"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="of a generated scenario")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    parser.add_argument("--batch", type=int, default=5000, help="records per ingest batch")
    parser.add_argument("--baseline-records", type=int, default=200_000)
    parser.add_argument("--tick-windows", type=int, default=EngineConfig().tick_windows)
    parser.add_argument(
        "--keep-store",
        type=Path,
        default=None,
        help="SQLite file holding the loaded scenario: made on the first run, reused after",
    )
    args = parser.parse_args()
    # The store of the full scenario takes gigabytes: it goes when the run ends.
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as tmp:
        if args.scenario is None:
            args.scenario = Path(tmp) / "scenario"
            summary = generate(Scenario(scale=args.scale), args.scenario)
            print(
                f"generated {summary.records:,} records, {summary.accounts:,} accounts "
                f"in {summary.seconds:.1f} s -> {args.scenario}"
            )
        run(args, Path(tmp))


def run(args: argparse.Namespace, tmp: Path) -> None:
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    kept: Path | None = args.keep_store
    if kept is not None and args.database_url:
        raise SystemExit("--keep-store keeps a SQLite store; leave out --database-url")
    if kept is not None and kept.is_file():
        shutil.copyfile(kept, tmp / "bench.db")
        upgrade(url)
        db = make_engine(url)
        with db.connect() as conn:
            loaded = totals(conn).received
        load_seconds = 0.0
    else:
        upgrade(url)
        db = make_engine(url)
        settings = Settings(database_url=url, data_dir=tmp)
        loaded, load_seconds = load(args.scenario, Ingestor(db, settings), args.batch)
        if kept is not None:
            # Checkpointed into the main file first, so the copy is the whole store.
            with db.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copyfile(tmp / "bench.db", kept)

    samples: list[tuple[float, float]] = []
    runner = PipelineRunner(
        db=db, config=EngineConfig(tick_windows=args.tick_windows), checkpoint_seconds=60.0
    )
    done = threading.Event()

    def sample() -> None:
        while not done.wait(2.0):
            engine = runner.engine_
            samples.append((float(engine.received if engine else 0), rss_mb()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_SELF)
    stats = runner.run_until_idle(flush=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    # CPU against wall time says how much of the machine the run kept busy: with
    # both cores busy, only a change that saves work makes it faster.
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    done.set()
    sampler.join()

    truth = pl.read_parquet(args.scenario / "truth.parquet").select("account_id", "label")
    with db.connect() as conn:
        rows = conn.execute(
            select(CaseAccountRow.account_id, CaseRow.peak_score).join(
                CaseRow, CaseRow.case_id == CaseAccountRow.case_id
            )
        ).all()
    detector_scores: dict[str, float] = {}
    for account, score in rows:
        detector_scores[account] = max(score, detector_scores.get(account, 0.0))

    base_n, base_seconds, base_scores = baseline(args.scenario, args.baseline_records)
    seen_truth = truth.filter(pl.col("account_id").is_in(list(base_scores)))
    rate = stats.records / seconds
    base_rate = base_n / base_seconds
    quarter = (
        [samples[int(q * (len(samples) - 1))] for q in (0.25, 0.5, 0.75, 1.0)] if samples else []
    )
    load_note = f"in {load_seconds:.1f} s" if load_seconds else "(kept store)"
    print_table(
        "pipeline: store → cases",
        [
            ("records loaded (ingest)", f"{loaded:,} {load_note}"),
            ("records processed", f"{stats.records:,} ({stats.late} late)"),
            ("wall time", f"{seconds:.1f} s"),
            ("records/s", f"{rate:,.0f}"),
            (
                "CPU, user + system",
                f"{user:,.1f} + {system:,.1f} s ({(user + system) / seconds:.2f} cores)",
            ),
            ("peak RSS", f"{peak_rss_mb():,.0f} MB"),
            (
                "RSS at 25/50/75/100% of the stream",
                " ".join(f"{mb:,.0f}" for _, mb in quarter) + " MB",
            ),
            ("cases written", f"{stats.cases_written}"),
            ("ROC-AUC (accounts)", f"{auc(truth, detector_scores):.3f}"),
        ],
    )
    print_table(
        "baseline: river HalfSpaceTrees on every record",
        [
            ("records scored", f"{base_n:,}"),
            ("records/s", f"{base_rate:,.0f}"),
            ("pipeline / baseline speed", f"{rate / base_rate:,.1f}x"),
            (
                "ROC-AUC (accounts seen)",
                f"{auc(seen_truth, base_scores):.3f}",
            ),
        ],
    )


if __name__ == "__main__":
    main()
