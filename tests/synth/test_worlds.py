"""Worlds: drawn deterministically from a number, within their ranges, generated with a
truth that covers every account, and graded by ``detector evaluate --worlds``; the
default scenario is left exactly as it was."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from detector.cli import main as detector
from synth.catalogue import KIND_INDEX, KINDS
from synth.cli import main as synth
from synth.day import DayBuilder, run_salt
from synth.languages import PHRASES
from synth.plan import build_plan
from synth.scenario import Scenario
from synth.texts import prompt_texts
from synth.worlds import CAMPAIGNS, CHOICES, LANGUAGES, RANGES, START_DAYS, WEEKS, draw


def _at(scenario: Scenario, path: str) -> Any:
    value: Any = scenario
    for part in path.split("."):
        value = getattr(value, part)
    return value


def test_a_world_is_the_same_for_its_number_and_differs_from_the_next() -> None:
    assert draw(3) == draw(3)
    assert draw(3, scale=0.01) == dataclasses.replace(draw(3), scale=0.01)
    assert draw(3) != draw(4)
    assert len({json.dumps(draw(n).to_dict(), sort_keys=True) for n in range(20)}) == 20


@pytest.mark.parametrize("days", [28, 56, 5], ids=["28-days", "56-days", "5-days"])
def test_drawn_parameters_lie_in_their_ranges(days: int) -> None:
    seen: dict[str, set[Any]] = {path: set() for path in CHOICES}
    for number in range(150):
        scenario = draw(number, days=days)
        scenario.validate()
        assert scenario.world == number and scenario.days == days
        for path, (low, high) in RANGES.items():
            assert low <= _at(scenario, path) <= high, (number, path)
        for path, options in CHOICES.items():
            assert _at(scenario, path) in options, (number, path)
            seen[path].add(_at(scenario, path))
        for name in CAMPAIGNS:
            part = getattr(scenario, name)
            assert START_DAYS[0] <= part.start_day <= min(START_DAYS[1], days - 1)
            weeks = (part.end_day - part.start_day) / 7
            assert WEEKS[name][0] - 1e-3 <= weeks <= WEEKS[name][1] + 1e-3
        assert scenario.moonshot.start_day < scenario.moonshot.phase2_day
        assert scenario.moonshot.phase2_day < scenario.moonshot.end_day
        for mix in (scenario.campaign_languages, scenario.honest_languages):
            assert {lang for lang, _ in mix} <= set(LANGUAGES) and 1 <= len(mix) <= 4
    # Over many worlds every mode is drawn.
    assert all(seen[path] == set(options) for path, options in CHOICES.items())


def test_the_default_scenario_is_unchanged() -> None:
    """The same salt and the same code columns as before worlds existed."""
    scenario = Scenario(scale=0.001, days=3)
    assert not {"world", "campaign_languages", "honest_languages"} & set(scenario.to_dict())
    assert "shape" not in scenario.to_dict()["minimax"]
    assert run_salt(Scenario()) == 732298405632
    assert run_salt(scenario) == 202879940864
    plan = build_plan(scenario)
    builder = DayBuilder(plan)
    digest = hashlib.sha256()
    for day in range(3):
        cols = builder.columns(day)
        assert not cols.pop("no_org").any()
        for name in sorted(cols):
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(cols[name]).tobytes())
    table = plan.accounts
    for name in ("payment", "ip_start", "ip_count", "user_agent", "tz", "system_base"):
        digest.update(getattr(table, name).tobytes())
    digest.update(table.template_count.tobytes())
    expected = "94e45414eb6127cd5d586bc0c19bb90061e9393242f52910bcb0224cd9478cec"
    assert digest.hexdigest() == expected


def test_a_tiny_world_generates_with_a_truth_for_every_account(tmp_path: Path) -> None:
    out = tmp_path / "world"
    argv = ["generate", "--world", "2", "--scale", "0.002", "--days", "7", "--out", str(out)]
    assert synth([*argv, "--no-progress"]) == 0
    again = Scenario.from_dict(json.loads((out / "world.json").read_text()))
    assert dataclasses.replace(again, scale=1.0, days=7) == draw(2, days=7)
    accounts = pl.read_parquet(out / "accounts.parquet")["account_id"]
    truth = pl.read_parquet(out / "truth.parquet")
    assert truth["account_id"].sort().equals(accounts.sort())
    assert truth["label"].null_count() == 0 and truth["kind"].null_count() == 0
    assert set(truth["label"]) == {"honest", *CAMPAIGNS}
    records = pl.scan_parquet(out / "records" / "*.parquet").select("account_id").unique()
    unknown = records.join(truth.lazy(), on="account_id", how="anti").collect()
    assert unknown.height == 0


@pytest.mark.slow
def test_evaluate_worlds_prints_a_table_and_writes_every_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["evaluate", "--worlds", "2", "--first-world", "5", "--scale", "0.002", "--days", "7"]
    assert detector([*argv, "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    assert lines[0].split()[:4] == ["world", *CAMPAIGNS]
    assert [line.split()[0] for line in lines[2:5]] == ["5", "6", "worst"]
    summary = json.loads((tmp_path / "worlds.json").read_text())
    assert [w["world"] for w in summary["worlds"]] == [5, 6]
    for world in summary["worlds"]:
        assert (tmp_path / f"world-{world['world']}" / "world.json").is_file()
        assert {"honest_accounts_in_cases", "honest_share_in_cases", "lookalike_cases"} <= set(
            world
        )
        for figures in world["campaigns"].values():
            assert {"became_case", "account_recall", "share_seen_before_case"} <= set(figures)
    worst = summary["worst"]
    assert set(worst["campaigns"]) <= set(CAMPAIGNS)
    assert worst["lookalike_cases"]["world"] in (5, 6)
    # Thresholds decide the exit status; an impossible one fails.
    failing = [*argv, "--first-world", "5", "--worlds", "1", "--fail-under", "honest=-1"]
    assert detector([*failing, "--out", str(tmp_path / "again")]) == 3


def test_every_language_phrases_every_task_kind() -> None:
    kinds = {kind.name for kind in KINDS}
    assert set(PHRASES) == set(LANGUAGES) - {"en"}
    for language, phrases in PHRASES.items():
        assert set(phrases) == kinds, language
        assert all("{q}" in text and "{n}" in text for text in phrases.values()), language
    texts = prompt_texts(7, 0, np.array([KIND_INDEX["cot_elicitation"]] * 2), ["zh", "ru"])
    assert "请一步一步写出得出这个答案的完整推理过程" in texts[0]
    assert "Распиши по шагам" in texts[1]
