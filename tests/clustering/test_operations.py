"""Groups that share a private scaffold are joined; public ones join nothing."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from detector.clustering.operations import join_operations


def keys(rows: list[tuple[str, str, str, int]]) -> pl.DataFrame:
    """Key rows (account, kind, value, records), plus each account's channel total."""
    frame = pl.DataFrame(rows, schema=["account_id", "kind", "value", "records"], orient="row")
    totals = (
        frame.filter(pl.col("kind") == "sys")
        .group_by("account_id")
        .agg(pl.col("records").sum())
        .select(
            "account_id", pl.lit("channel").alias("kind"), pl.lit("api").alias("value"), "records"
        )
    )
    return pl.concat([frame, totals])


def groups(mapping: dict[str, list[str]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(a, label) for label, accounts in mapping.items() for a in accounts],
        schema=["account_id", "component"],
        orient="row",
    ).sort("account_id")


FARMS = {"a1": ["a1", "a2", "a3"], "b1": ["b1", "b2", "b3"]}


def test_farms_running_one_private_prompt_are_joined() -> None:
    rows = [(a, "sys", "sys-op", 40) for g in FARMS.values() for a in g]
    got = join_operations(groups(FARMS), keys(rows))
    expected = groups({"a1": FARMS["a1"] + FARMS["b1"]})
    assert_frame_equal(got, expected)


@pytest.mark.parametrize("outside", [3, 10], ids=["three-outside", "ten-outside"])
def test_a_prompt_run_outside_the_groups_is_public(outside: int) -> None:
    rows = [(a, "sys", "sys-framework", 40) for g in FARMS.values() for a in g]
    rows += [(f"u{i}", "sys", "sys-framework", 40) for i in range(outside)]
    assert_frame_equal(join_operations(groups(FARMS), keys(rows)), groups(FARMS))


def test_two_outside_users_leave_a_prompt_private() -> None:
    rows = [(a, "sys", "sys-op", 40) for g in FARMS.values() for a in g]
    rows += [("u1", "sys", "sys-op", 40), ("u2", "sys", "sys-op", 40)]
    assert join_operations(groups(FARMS), keys(rows))["component"].n_unique() == 1


def test_a_prompt_held_by_one_stray_member_does_not_bridge() -> None:
    rows = [(a, "sys", f"sys-{a[0]}", 40) for g in FARMS.values() for a in g]
    rows.append(("b1", "sys", "sys-a", 40))  # under half of farm b
    assert_frame_equal(join_operations(groups(FARMS), keys(rows)), groups(FARMS))


def test_a_prompt_carrying_a_sliver_of_traffic_does_not_hold() -> None:
    rows = [(a, "sys", f"sys-{a[0]}", 100) for g in FARMS.values() for a in g]
    rows += [(a, "sys", "sys-shared", 5) for g in FARMS.values() for a in g]  # under 10%
    assert_frame_equal(join_operations(groups(FARMS), keys(rows)), groups(FARMS))


def test_tool_schemas_never_join() -> None:
    rows = [(a, "sys", f"sys-{a[0]}", 40) for g in FARMS.values() for a in g]
    rows += [(a, "tools", "bash,edit", 40) for g in FARMS.values() for a in g]
    assert_frame_equal(join_operations(groups(FARMS), keys(rows)), groups(FARMS))
