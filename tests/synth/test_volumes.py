"""Volumes: the generated run matches its plan, and the full-scale plan the brief."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from synth.plan import build_plan
from synth.scenario import Scenario
from tests.synth.conftest import SCALE, Run

BRIEF = {"minimax": 13_000_000, "moonshot": 2_850_000, "deepseek": 150_000}


def test_campaign_volumes_within_one_percent(run: Run) -> None:
    by_source = dict(run.records.group_by("source").len().iter_rows())
    for name, full in BRIEF.items():
        assert by_source[name] == pytest.approx(full * SCALE, rel=0.01), name
    assert run.scenario["campaigns"]["minimax"]["records"] == by_source["minimax"]


def test_every_population_gets_exactly_its_planned_rows(run: Run) -> None:
    by_source = dict(run.records.group_by("source").len().iter_rows())
    assert by_source == run.plan.volumes()


@pytest.fixture(scope="module")
def full_plan():  # type: ignore[no-untyped-def]
    return build_plan(Scenario())


def test_full_scale_plan_meets_the_brief(full_plan) -> None:  # type: ignore[no-untyped-def]
    volumes = full_plan.volumes()
    for name, full in BRIEF.items():
        assert volumes[name] == pytest.approx(full, rel=0.01), name
    populations = {p.name: p for p in full_plan.populations}
    honest = [p for p in full_plan.populations if p.label == "honest"]
    assert sum(volumes[p.name] for p in honest) >= 25_000_000
    assert sum(len(p.accounts) for p in honest) >= 50_000
    assert full_plan.total >= 41_000_000
    assert 15_000 <= len(populations["minimax"].accounts) <= 20_000
    assert 300 <= len(populations["moonshot"].accounts) <= 800
    assert 30 <= len(populations["deepseek"].accounts) <= 150


def test_full_scale_moonshot_accounts_carry_4k_to_11k_each(full_plan) -> None:  # type: ignore[no-untyped-def]
    moonshot = next(p for p in full_plan.populations if p.name == "moonshot")
    index = full_plan.populations.index(moonshot)
    per_account = (
        moonshot.activity.sum(axis=1) / moonshot.activity.sum() * full_plan.daily[index].sum()
    )
    assert per_account.min() >= 3_900 and per_account.max() <= 11_100


def test_heavy_tailed_honest_accounts(run: Run) -> None:
    general = run.records.filter(pl.col("source") == "general").group_by("account_id").len()
    counts = np.sort(general["len"].to_numpy())[::-1]
    top = counts[: max(1, len(counts) // 10)].sum() / counts.sum()
    assert top > 0.4  # the top tenth of accounts make a large share of the calls


def test_a_shorter_run_keeps_daily_rates_and_clips_campaign_windows() -> None:
    plan = build_plan(Scenario(scale=0.01, days=10))
    volumes = plan.volumes()
    assert volumes["deepseek"] == 0  # its window opens on day 12
    assert volumes["minimax"] == round(13_000_000 * 0.01 * 10 / 56)
    assert volumes["moonshot"] == round(2_850_000 * 0.01 * 7 / 48)  # days 3-10 of 3-51
    assert volumes["general"] == round(10_500_000 * 0.01 * 10 / 56)
    assert plan.daily.shape == (len(plan.populations), 10)
