"""A gateway's end users linked by a system prompt that only that gateway's customers
run, never by a prompt ordinary accounts run too."""

from __future__ import annotations

import polars as pl

from detector.clustering.linkage import LINKING_KINDS, LinkageConfig, components, gateway_keys
from detector.features.frames import principal
from detector.features.windows import KIND, with_match_hashes


def keys(rows: list[tuple[str, str, str, int]]) -> pl.DataFrame:
    frame = pl.DataFrame(
        rows,
        schema={
            "account_id": pl.String(),
            "kind": KIND,
            "value": pl.String(),
            "records": pl.Int64(),
        },
        orient="row",
    )
    return with_match_hashes(frame)


def linked(frame: pl.DataFrame) -> dict[str, str]:
    linking = pl.concat(
        [frame.filter(pl.col("kind").is_in(LINKING_KINDS)), gateway_keys(frame)],
        how="diagonal_relaxed",
    ).select(frame.columns)
    found = components(linking, population=1000, config=LinkageConfig())
    return dict(found.iter_rows())


def customers(gateway: str, count: int) -> list[tuple[str, str, str, int]]:
    """End users of ``gateway`` going about their own business."""
    return [(principal(gateway, f"c{i}"), "channel", "api", 5) for i in range(count)]


def test_end_users_of_one_gateway_running_its_private_prompt_link() -> None:
    users = [principal("gw-1", f"u{i}") for i in range(4)]
    frame = keys([(u, "sys", "operator-prompt", 5) for u in users] + customers("gw-1", 10))
    got = linked(frame)
    assert set(got) == set(users)
    assert len(set(got.values())) == 1


def test_the_prompt_most_of_a_gateways_end_users_run_is_its_product() -> None:
    users = [principal("gw-1", f"u{i}") for i in range(6)]
    rows = [(u, "sys", "reseller-assistant", 5) for u in users] + customers("gw-1", 4)
    assert linked(keys(rows)) == {}


def test_a_prompt_ordinary_accounts_run_links_no_end_user() -> None:
    users = [principal("gw-1", f"u{i}") for i in range(4)]
    rows = [(u, "sys", "popular-prompt", 5) for u in users] + customers("gw-1", 10)
    rows.append(("acct-ordinary", "sys", "popular-prompt", 50))
    assert linked(keys(rows)) == {}


def test_the_same_prompt_in_two_gateways_links_neither() -> None:
    rows = [
        (principal(gw, f"u{i}"), "sys", "shared-prompt", 5)
        for gw in ("gw-1", "gw-2")
        for i in range(3)
    ]
    assert linked(keys(rows)) == {}


def test_a_prompt_used_twice_links_nothing_and_ordinary_accounts_never_link_by_prompt() -> None:
    rows = [(principal("gw-1", f"u{i}"), "sys", "rare", 2) for i in range(3)]
    rows += [(f"acct-{i}", "sys", "framework", 50) for i in range(3)]
    assert linked(keys(rows)) == {}
