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

Against older code: ``--baseline-ref REV`` checks ``REV`` out in a ``git worktree``
and runs step 2 with it and with this checkout side by side, each in a process of
its own on a fresh copy of the same loaded store, alternating (``--runs`` each), and
prints both arms' figures and their ratios. The store is loaded by this checkout's
code (SQLite only); the baseline must read its schema, as any older revision does
while migrations only add.
"""

from __future__ import annotations

import argparse
import inspect
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

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
        "--baseline-ref",
        default=None,
        help="git revision to run side by side with this checkout (step 2 only)",
    )
    parser.add_argument("--runs", type=int, default=2, help="runs per arm with --baseline-ref")
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

    if args.baseline_ref is not None:
        if args.database_url:
            raise SystemExit("--baseline-ref runs on SQLite copies; leave out --database-url")
        with db.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.dispose()
        compare(args, tmp, tmp / "bench.db", loaded, load_seconds)
        return

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


def _arm(store: str, tick_windows: int) -> None:
    """Step 2 on ``store`` by whichever ``detector`` is importable, its figures printed
    as one JSON line. Runs in a child process of the code under test, sent to it as
    source (``inspect.getsource``): a baseline checkout needs nothing of this file,
    only the runner's API, which both arms share."""
    import json
    import resource
    import time

    from detector.pipeline.engine import EngineConfig
    from detector.pipeline.runner import PipelineRunner
    from detector.store.db import make_engine

    db = make_engine(f"sqlite:///{store}")
    config = EngineConfig(tick_windows=tick_windows)
    runner = PipelineRunner(db=db, config=config, checkpoint_seconds=60.0)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    stats = runner.run_until_idle(flush=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    figures = {"seconds": seconds, "records": stats.records, "cpu": cpu}
    print(json.dumps(figures | {"peak_rss_mb": after.ru_maxrss / 1024}))


def run_arm(root: Path, store: Path, tick_windows: int) -> dict[str, Any]:
    """``_arm`` with the code checked out at ``root``, in a process of its own."""
    source = textwrap.dedent(inspect.getsource(_arm))
    call = f"{source}\n_arm({str(store)!r}, {tick_windows})\n"
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", call], cwd=root, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"the arm at {root} failed:\n{done.stderr[-4000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def arm_auc(store: Path, truth: pl.DataFrame) -> float:
    db = make_engine(f"sqlite:///{store}")
    with db.connect() as conn:
        rows = conn.execute(
            select(CaseAccountRow.account_id, CaseRow.peak_score).join(
                CaseRow, CaseRow.case_id == CaseAccountRow.case_id
            )
        ).all()
    db.dispose()
    scores: dict[str, float] = {}
    for account, score in rows:
        scores[account] = max(score, scores.get(account, 0.0))
    return auc(truth, scores)


def compare(
    args: argparse.Namespace, tmp: Path, loaded: Path, records: int, load_seconds: float
) -> None:
    """Step 2 with ``--baseline-ref`` and with this checkout, alternating, each run on
    a fresh copy of the ``loaded`` store; figures per arm and their ratios."""
    here = Path(__file__).resolve().parents[1]
    base = tmp / "baseline"
    subprocess.run(
        ["git", "-C", str(here), "worktree", "add", "--detach", str(base), args.baseline_ref],
        check=True,
        capture_output=True,
    )
    truth = pl.read_parquet(args.scenario / "truth.parquet").select("account_id", "label")
    arms = {"baseline": base, "this checkout": here}
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in arms}
    try:
        for run_index in range(args.runs):
            # Alternating which goes first, so that neither always meets a warm cache.
            order = list(arms) if run_index % 2 == 0 else list(reversed(arms))
            for name in order:
                store = tmp / "run.db"
                shutil.copyfile(loaded, store)
                figures = run_arm(arms[name], store, args.tick_windows)
                figures["auc"] = arm_auc(store, truth)
                results[name].append(figures)
                print(
                    f"run {run_index + 1} {name}: {figures['seconds']:.1f} s, "
                    f"{figures['peak_rss_mb']:,.0f} MB peak RSS",
                    flush=True,
                )
                store.unlink()
    finally:
        subprocess.run(
            ["git", "-C", str(here), "worktree", "remove", "--force", str(base)],
            check=False,
            capture_output=True,
        )

    def summary(runs: list[dict[str, Any]]) -> dict[str, float]:
        seconds = statistics.median(r["seconds"] for r in runs)
        return {
            "seconds": seconds,
            "rate": runs[0]["records"] / seconds,
            "cpu": statistics.median(r["cpu"] for r in runs),
            "rss": max(r["peak_rss_mb"] for r in runs),
            "auc": runs[-1]["auc"],
        }

    load_note = f"in {load_seconds:.1f} s" if load_seconds else "(kept store)"
    print(f"\nrecords loaded (ingest): {records:,} {load_note}; {args.runs} runs per arm")
    figures = {name: summary(runs) for name, runs in results.items()}
    for name, arm in figures.items():
        print_table(
            f"{name} ({args.baseline_ref if name == 'baseline' else 'working tree'})",
            [
                ("wall time, median", f"{arm['seconds']:.1f} s"),
                ("records/s", f"{arm['rate']:,.0f}"),
                ("CPU, median", f"{arm['cpu']:.1f} s"),
                ("peak RSS, highest", f"{arm['rss']:,.0f} MB"),
                ("ROC-AUC (accounts)", f"{arm['auc']:.3f}"),
            ],
        )
    new, old = figures["this checkout"], figures["baseline"]
    print_table(
        "this checkout / baseline",
        [
            ("wall time", f"{new['seconds'] / old['seconds']:.2f}x"),
            ("CPU", f"{new['cpu'] / old['cpu']:.2f}x"),
            ("peak RSS", f"{new['rss'] / old['rss']:.2f}x"),
        ],
    )


if __name__ == "__main__":
    main()
