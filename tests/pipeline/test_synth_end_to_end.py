"""End to end through the HTTP API on a scaled synth scenario: replayed as a log
pipeline would send it, the three campaigns become cases and the look-alikes do not.

The scenario is small (scale 0.004 over four weeks, ~180k records), so account counts
sit at synth's floors and each campaign is thinner than at scale 1.0; the grading is
the one ``detector evaluate`` applies.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from detector.config import Settings
from synth.cli import main as synth
from synth.replay import replay
from tests.support.server import serve_in_thread

SCALE, DAYS, SEED = "0.004", "28", "5"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scenario")
    argv = ["generate", "--scale", SCALE, "--days", DAYS, "--seed", SEED]
    assert synth([*argv, "--out", str(out), "--no-progress"]) == 0
    return out


@pytest.mark.db
@pytest.mark.slow
def test_campaigns_become_cases_and_lookalikes_do_not(scenario: Path, settings: Settings) -> None:
    with serve_in_thread(settings) as live:
        result = replay(scenario, live.url, live.token, batch_size=5000, progress=False)
        assert result.records.rejected == 0
        with live.client() as client:
            state = client.post("/v1/pipeline/flush", timeout=600).json()
            assert state["pending"] == 0
            cases = client.get("/v1/cases", params={"limit": 500}).json()["items"]
            members = {
                case["case_id"]: client.get(f"/v1/cases/{case['case_id']}").json()["account_ids"]
                for case in cases
            }
    truth = pl.read_parquet(scenario / "truth.parquet").select("account_id", "label")
    rows = [(cid, a) for cid, accounts in members.items() for a in accounts]
    labelled = pl.DataFrame(rows, schema=["case_id", "account_id"], orient="row").join(
        truth, on="account_id"
    )
    majority = dict(
        labelled.group_by("case_id").agg(pl.col("label").mode().sort().first()).iter_rows()
    )
    assert "honest" not in majority.values(), "a case made of look-alikes"
    assert {"minimax", "deepseek"} <= set(majority.values())
    if "moonshot" not in majority.values():
        # Everything above must hold; only this is a known gap: at this scale the
        # Moonshot-like campaign sends ~0.2 requests an account and hour, and its case
        # opens only at the very end, if at all (docs/detection.md, 'Known gaps').
        pytest.xfail("the Moonshot-like campaign did not become a case at scale 0.004")
