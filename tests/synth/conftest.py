"""One small generated run shared by the synth tests (generated once per session)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from synth.generate import generate
from synth.plan import Plan, build_plan
from synth.scenario import Scenario

# Small enough to generate in a few seconds, large enough that every campaign and
# look-alike keeps its shape (account floors apply below scale ~0.01).
SCALE = 0.004


@dataclass
class Run:
    out: Path
    plan: Plan
    scenario: dict[str, Any]
    records: pl.DataFrame  # every record, with its source population and truth label
    accounts: pl.DataFrame
    truth: pl.DataFrame


@pytest.fixture(scope="session")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("synth-run")
    scenario = Scenario(scale=SCALE)
    plan = build_plan(scenario)
    generate(scenario, out, fmt="both", plan=plan)
    days = sorted((out / "records").glob("*.parquet"))
    frames = []
    for path in days:
        day = pl.read_parquet(path)
        source = pl.read_parquet(out / "labels" / path.name)
        frames.append(day.with_columns(source=source["source"].cast(pl.String)))
    truth = pl.read_parquet(out / "truth.parquet")
    records = pl.concat(frames).join(
        truth.select("account_id", "label", "kind"), on="account_id", how="left"
    )
    return Run(
        out=out,
        plan=plan,
        scenario=json.loads((out / "scenario.json").read_text()),
        records=records,
        accounts=pl.read_parquet(out / "accounts.parquet"),
        truth=truth,
    )
