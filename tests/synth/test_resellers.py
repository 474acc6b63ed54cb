"""Declared resellers: honest ones call for many end users from a few servers, and a
campaign drawn ``via_reseller`` appears only as end users of one of them, registered
nowhere but kept in the truth with the ids its records carry."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import polars as pl
import pytest

from synth.cli import main as synth
from synth.scenario import DeepSeek, Honest, Scenario, Shape
from synth.worlds import VIA_RESELLER, draw

# World 11 buys the DeepSeek-like campaign's access through a reseller, from day 1.
WORLD = 11


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reseller-world")
    argv = ["generate", "--world", str(WORLD), "--scale", "0.002", "--days", "7"]
    assert synth([*argv, "--out", str(out), "--no-progress"]) == 0
    return out


def _records(out: Path) -> pl.DataFrame:
    frames = []
    for path in sorted((out / "records").glob("*.parquet")):
        day = pl.read_parquet(path, columns=["account_id", "end_user_id", "client_ip", "org_id"])
        source = pl.read_parquet(out / "labels" / path.name)["source"].cast(pl.String)
        frames.append(day.with_columns(source=source))
    return pl.concat(frames)


def test_worlds_draw_resellers_and_sometimes_hide_a_campaign_behind_one() -> None:
    worlds = [draw(n) for n in range(200)]
    assert all(2 <= w.honest.resellers <= 8 for w in worlds)
    for name, chance in VIA_RESELLER.items():
        share = sum(getattr(w, name).shape.via_reseller for w in worlds) / len(worlds)
        assert chance - 0.1 < share < chance + 0.1, name
    assert not any(w.minimax.shape.via_reseller for w in worlds)
    assert draw(WORLD).deepseek.shape.via_reseller


def test_the_default_scenario_has_no_reseller() -> None:
    scenario = Scenario()
    assert scenario.honest.resellers == 0
    assert "resellers" not in scenario.to_dict()["honest"]
    assert "via_reseller" not in json.dumps(draw(0).to_dict())


def test_a_campaign_via_reseller_needs_a_reseller() -> None:
    hidden = DeepSeek(shape=Shape(via_reseller=True))
    with pytest.raises(ValueError, match=r"deepseek\.shape\.via_reseller: needs honest\.resellers"):
        Scenario(deepseek=hidden).validate()
    honest = dataclasses.replace(Honest(), resellers=1, reseller_end_users=300)
    Scenario(deepseek=hidden, honest=honest).validate()


def test_honest_resellers_call_for_many_end_users_from_a_few_servers(world: Path) -> None:
    accounts = pl.read_parquet(world / "accounts.parquet")
    sellers = accounts.filter(pl.col("program") == "reseller")
    assert sellers.height == draw(WORLD).honest.resellers
    assert sellers["verified"].all()
    rows = _records(world).filter(pl.col("source") == "reseller")
    per = rows.group_by("account_id").agg(
        pl.col("end_user_id").null_count().alias("anonymous"),
        pl.col("end_user_id").n_unique().alias("end_users"),
        pl.col("client_ip").n_unique().alias("ips"),
        pl.col("org_id").n_unique().alias("orgs"),
    )
    assert set(per["account_id"]) <= set(sellers["account_id"])
    assert per.height >= 2
    assert (per["anonymous"] == 0).all()
    assert (per["end_users"] >= 20).all()
    assert (per["ips"] <= 6).all() and (per["orgs"] == 1).all()
    # Each reseller keeps its own card and organisation.
    assert sellers["payment_fingerprint"].n_unique() == sellers.height
    assert sellers["org_id"].n_unique() == sellers.height


def test_a_campaign_via_reseller_is_only_end_users_of_one_reseller(world: Path) -> None:
    accounts = pl.read_parquet(world / "accounts.parquet")
    registered = set(pl.read_ndjson(world / "accounts.ndjson")["account_id"])
    assert registered == set(accounts["account_id"])
    truth = pl.read_parquet(world / "truth.parquet")
    hidden = truth.filter(pl.col("label") == "deepseek")
    assert hidden.height >= 20
    assert hidden["via_account_id"].null_count() == 0
    assert hidden["end_user_id"].n_unique() == hidden.height
    assert not set(hidden["account_id"]) & registered
    # Every other account is registered and has no via columns.
    rest = truth.filter(pl.col("label") != "deepseek")
    assert set(rest["account_id"]) == registered
    assert rest["via_account_id"].null_count() == rest.height
    reseller = hidden["via_account_id"].unique().to_list()
    assert len(reseller) == 1
    assert accounts.filter(pl.col("account_id") == reseller[0])["program"].to_list() == ["reseller"]

    records = _records(world)
    campaign = records.filter(pl.col("source") == "deepseek")
    assert campaign.height > 0
    assert set(campaign["account_id"]) == set(reseller)
    assert set(campaign["end_user_id"]) <= set(hidden["end_user_id"])
    assert not set(records["account_id"]) & set(hidden["account_id"])
    # From the reseller's own servers and organisation, among its honest end users.
    honest = records.filter(
        (pl.col("account_id") == reseller[0]) & (pl.col("source") == "reseller")
    )
    assert set(campaign["client_ip"]) <= set(honest["client_ip"])
    assert set(campaign["org_id"]) == set(honest["org_id"])
    assert not set(campaign["end_user_id"]) & set(honest["end_user_id"])


@pytest.mark.parametrize(
    ("honest", "message"),
    [
        ({"resellers": -1}, r"honest\.resellers: -1 must be at least 0"),
        (
            {"resellers": 2, "reseller_end_users": 300_000},
            r"honest\.reseller_end_users: 300000 must be within 1\.\.200000",
        ),
    ],
    ids=["negative-count", "too-many-end-users"],
)
def test_reseller_parameters_are_checked(honest: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Scenario(honest=dataclasses.replace(Honest(), **honest)).validate()
