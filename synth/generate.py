"""``synth generate``: a scenario to files, day by day, with memory kept flat.

Each day is generated, checked on a sample through the detector's decoder, and
handed to a writer thread; the next day is generated while the last is encoded,
so the two cores of a small machine are both busy and at most two days are in memory.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from synth.conformance import check_accounts, check_records
from synth.day import DayBuilder
from synth.output import (
    PARQUET,
    iso,
    scenario_document,
    write_accounts,
    write_scenario,
    write_world,
)
from synth.plan import Plan, build_plan
from synth.scenario import Scenario

FORMATS = ("parquet", "ndjson", "both")
SAMPLE_PER_DAY = 200
# Dictionary pages only where values repeat; random ids and times would only
# make the writer try and fall back.
_DICTIONARY = [
    "account_id", "request_model", "org_id", "client_ip", "user_agent", "provider",
    "operation", "channel", "reasoning_mode", "tool_names", "response_tool_call_names",
    "content_flags", "status", "finish_reason", "system_fingerprint", "template_fingerprint",
    "http_status", "image_inputs", "message_count", "prompt_text",
]  # fmt: skip


@dataclass
class Summary:
    records: int
    accounts: int
    days: int
    seconds: float
    out: Path


def _write_day(
    out: Path, date: str, table: pa.Table, sources: np.ndarray, fmt: str, names: list[str]
) -> None:
    if fmt in ("parquet", "both"):
        pq.write_table(
            table,
            out / "records" / f"{date}.parquet",
            use_dictionary=_DICTIONARY,
            write_statistics=["ts_start", "ts_end"],
            dictionary_pagesize_limit=8 << 20,
            **PARQUET,
        )
    if fmt in ("ndjson", "both"):
        pl.from_arrow(table).write_ndjson(out / "records" / f"{date}.ndjson")  # type: ignore[union-attr]
    # Which population made each row, in the same order: for evaluation only.
    labels = pa.DictionaryArray.from_arrays(pa.array(sources.astype(np.int8)), pa.array(names))
    pq.write_table(pa.table({"source": labels}), out / "labels" / f"{date}.parquet", **PARQUET)


def generate(
    scenario: Scenario,
    out: Path,
    *,
    fmt: str = "parquet",
    plan: Plan | None = None,
    progress: bool = False,
) -> Summary:
    """Write the run of ``scenario`` to ``out`` and return what was written."""
    if fmt not in FORMATS:
        raise ValueError(f"format: {fmt!r} must be one of {', '.join(FORMATS)}")
    began = time.perf_counter()
    plan = plan or build_plan(scenario)
    (out / "records").mkdir(parents=True, exist_ok=True)
    (out / "labels").mkdir(exist_ok=True)
    accounts = write_accounts(out, plan)
    check_accounts(accounts.slice(0, 2_000))
    builder = DayBuilder(plan)
    names = [p.name for p in plan.populations]
    eff = plan.effective
    counts: list[int] = []
    pending: Future[None] | None = None
    days = range(eff.days)
    if progress:
        from tqdm import tqdm

        days = tqdm(days, unit="day", desc="synth")  # type: ignore[assignment]
    with ThreadPoolExecutor(max_workers=1) as writer:
        for day in days:
            cols = builder.columns(day)
            table = builder.table(day, cols)
            rng = np.random.default_rng([eff.seed, day, 7])
            sample = rng.choice(
                table.num_rows, size=min(SAMPLE_PER_DAY, table.num_rows), replace=False
            )
            check_records(table.take(np.sort(sample)))
            if pending is not None:
                pending.result()
            date = iso(eff.start_epoch + day * 86_400)[:10]
            pending = writer.submit(_write_day, out, date, table, cols["source"], fmt, names)
            counts.append(table.num_rows)
        if pending is not None:
            pending.result()
    write_scenario(out, scenario_document(plan, counts))
    write_world(out, plan)
    return Summary(
        records=sum(counts),
        accounts=len(plan.accounts),
        days=eff.days,
        seconds=time.perf_counter() - began,
        out=out,
    )
