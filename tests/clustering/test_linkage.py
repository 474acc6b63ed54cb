"""Linkage into components, hub down-weighting, pruning, and stable cluster ids."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from detector.clustering.coherence import prune
from detector.clustering.identity import ClusterRegistry
from detector.clustering.linkage import LinkageConfig, components, key_weights
from detector.features.windows import KIND, with_key_hashes


def keys(rows: list[tuple[str, str, str]], records: int = 10) -> pl.DataFrame:
    return pl.DataFrame(
        [(a, k, v, records) for a, k, v in rows],
        schema={
            "account_id": pl.String,
            "kind": pl.String,
            "value": pl.String,
            "records": pl.Int64,
        },
        orient="row",
    )


CONFIG = LinkageConfig(hub_share=0.1, hub_min=5)


def test_shared_values_link_accounts_transitively() -> None:
    frame = keys(
        [
            ("a", "pay", "p1"),
            ("b", "pay", "p1"),
            ("b", "ipua", "net1 | sdk"),
            ("c", "ipua", "net1 | sdk"),
            ("d", "pay", "p9"),
        ]
    )
    expected = pl.DataFrame({"account_id": ["a", "b", "c"], "component": ["a", "a", "a"]})
    assert_frame_equal(components(frame, population=40, config=CONFIG), expected)


def test_a_hub_value_does_not_glue_strangers() -> None:
    # 30 of 40 active accounts behind one NAT with one SDK string: a hub, no link.
    nat = [(f"u{i:02d}", "ipua", "nat | popular-sdk") for i in range(30)]
    pair = [("x", "pay", "shared"), ("y", "pay", "shared")]
    got = components(keys(nat + pair), population=40, config=CONFIG)
    assert_frame_equal(got, pl.DataFrame({"account_id": ["x", "y"], "component": ["x", "x"]}))
    weights = key_weights(keys(nat + pair), population=40, config=CONFIG)
    hub = weights.filter(pl.col("value") == "nat | popular-sdk").row(0, named=True)
    assert hub["links"] is False and hub["idf"] == 0.0
    assert weights.filter(pl.col("value") == "shared")["idf"].item() > 0.5


def test_weak_kinds_alone_never_link() -> None:
    frame = keys([("a", "ua", "sdk/1"), ("b", "ua", "sdk/1"), ("a", "sys", "s"), ("b", "sys", "s")])
    assert components(frame, population=40, config=CONFIG).is_empty()


def test_the_key_states_hashes_link_and_split_as_the_plain_values_do() -> None:
    # The pipeline hands over its key state with the hashes it keeps (``_acct``,
    # ``_tie``, kind as an enum); a frame without them is hashed on the way in.
    campaign, strangers = [f"c{i}" for i in range(4)], ["s1", "s2"]
    rows = (
        [(a, "ipua", "net1 | sdk") for a in [*campaign, *strangers]]
        + [(a, "sys", "operator-prompt") for a in campaign]
        + [(a, "sys", f"own-{a}") for a in strangers]
        + [(a, "channel", "api") for a in [*campaign, *strangers]]
        + [("c0", "pay", "card"), ("x", "pay", "card"), ("y", "pay", "other")]
    )
    plain = keys(rows)
    state = with_key_hashes(plain.with_columns(pl.col("kind").cast(KIND)))
    linked = components(plain, population=100, config=CONFIG)
    assert_frame_equal(components(state, population=100, config=CONFIG), linked)
    assert linked["account_id"].to_list() == [*campaign, "s1", "s2", "x"]
    split = prune(linked, plain)
    assert_frame_equal(prune(linked, state), split)
    assert split["account_id"].to_list() == [*campaign, "x"]


def test_prune_drops_accounts_that_do_not_share_the_clusters_scaffolding() -> None:
    members = pl.DataFrame(
        {"account_id": ["c1", "c2", "c3", "r1"], "component": ["c1", "c1", "c1", "c1"]}
    )
    profile = keys(
        [(f"c{i}", "sys", "analyst") for i in (1, 2, 3)]
        + [(f"c{i}", "channel", "api") for i in (1, 2, 3)]
        + [("r1", "sys", "own-app"), ("r1", "channel", "api")]
    )
    expected = pl.DataFrame({"account_id": ["c1", "c2", "c3"], "component": ["c1", "c1", "c1"]})
    assert_frame_equal(prune(members, profile), expected)


def frame_of(groups: dict[str, list[str]]) -> pl.DataFrame:
    rows = [(a, label) for label, accounts in groups.items() for a in accounts]
    return pl.DataFrame(
        rows, schema={"account_id": pl.String, "component": pl.String}, orient="row"
    )


def test_cluster_identity_is_stable_as_members_join_and_leave() -> None:
    registry = ClusterRegistry()
    first = registry.assign(frame_of({"a": ["a", "b", "c"], "x": ["x", "y"]}))
    assert first == {"a": "K000001", "x": "K000002"}
    # The campaign grows tenfold and loses one founder; the pair is replaced entirely.
    grown = [f"n{i:02d}" for i in range(27)] + ["b", "c"]
    second = registry.assign(frame_of({"b": grown, "p": ["p", "q"]}))
    assert second == {"b": "K000001", "p": "K000003"}
    # A split: the larger part keeps the id, the other gets a new one.
    third = registry.assign(frame_of({"b": grown[:20], "n20": grown[20:]}))
    assert third["b"] == "K000001" and third["n20"] == "K000004"


def test_split_keeps_a_campaign_that_its_proxys_customers_outnumber() -> None:
    # One component through a proxy's exits: 3 campaign accounts on one scaffold,
    # 6 customers each with their own application.
    campaign = [f"c{i}" for i in range(3)]
    customers = [f"r{i}" for i in range(6)]
    members = pl.DataFrame({"account_id": campaign + customers, "component": ["c0"] * 9})
    profile = keys(
        [(a, "sys", "analyst") for a in campaign]
        + [(a, "sys", f"app-{a}") for a in customers]
        + [(a, "channel", "api") for a in campaign + customers]
    )
    expected = pl.DataFrame({"account_id": campaign, "component": ["c0"] * 3})
    assert_frame_equal(prune(members, profile), expected)


def test_a_public_scaffold_does_not_bring_a_proxy_customer_into_the_campaign() -> None:
    # The campaign's accounts share a private system prompt and a popular agent tool
    # set; a customer of the same exits runs that tool set under its own prompt, as
    # do four accounts outside every component.
    campaign = [f"c{i}" for i in range(3)]
    outsiders = [f"o{i}" for i in range(4)]
    members = pl.DataFrame({"account_id": [*campaign, "r1"], "component": ["c0"] * 4})
    profile = keys(
        [(a, "sys", "operator-prompt") for a in campaign]
        + [(a, "tools", "bash,edit,grep") for a in [*campaign, "r1", *outsiders]]
        + [("r1", "sys", "own-app")]
        + [(a, "channel", "api") for a in [*campaign, "r1", *outsiders]]
    )
    expected = pl.DataFrame({"account_id": campaign, "component": ["c0"] * 3})
    assert_frame_equal(prune(members, profile), expected)


def test_a_public_tool_set_does_not_join_two_households() -> None:
    # Two pairs, each sharing a card, both coding with a popular agent's tools.
    first, second = ["a1", "a2"], ["b1", "b2"]
    outsiders = [f"o{i}" for i in range(4)]
    members = pl.DataFrame({"account_id": first + second, "component": ["a1"] * 4})
    profile = keys(
        [(a, "pay", "card-a") for a in first]
        + [(a, "pay", "card-b") for a in second]
        + [(a, "tools", "bash,edit,grep") for a in first + second + outsiders]
        + [(a, "channel", "api") for a in first + second + outsiders]
    )
    expected = pl.DataFrame({"account_id": first + second, "component": ["a1"] * 2 + ["b1"] * 2})
    assert_frame_equal(prune(members, profile), expected)


def test_a_rare_tool_set_still_ties_accounts() -> None:
    # Fewer than three accounts outside every component run it: not public.
    members = pl.DataFrame({"account_id": ["c1", "c2"], "component": ["c1"] * 2})
    profile = keys(
        [(a, "tools", "scrape,summarise") for a in ["c1", "c2", "o1", "o2"]]
        + [(a, "channel", "api") for a in ["c1", "c2", "o1", "o2"]]
    )
    assert_frame_equal(prune(members, profile), members)


def test_a_scaffold_shared_by_campaign_accounts_in_two_components_stays_private() -> None:
    # The same operator prompt in two components: neither makes it public.
    members = pl.DataFrame(
        {"account_id": ["a1", "a2", "b1", "b2", "b3"], "component": ["a1"] * 2 + ["b1"] * 3}
    )
    profile = keys(
        [(a, "sys", "operator-prompt") for a in ["a1", "a2", "b1", "b2", "b3"]]
        + [(a, "channel", "api") for a in ["a1", "a2", "b1", "b2", "b3"]]
    )
    assert_frame_equal(prune(members, profile), members)


def test_one_stray_request_is_not_scaffolding() -> None:
    # r1 has sent five requests, one of them under the operator's prompt: 20%, but
    # a single request.
    members = pl.DataFrame({"account_id": ["c1", "c2", "r1"], "component": ["c1"] * 3})
    profile = pl.concat(
        [
            keys([("c1", "sys", "operator-prompt"), ("c2", "sys", "operator-prompt")]),
            keys([("c1", "channel", "api"), ("c2", "channel", "api")]),
            keys([("r1", "sys", "operator-prompt")], records=1),
            keys([("r1", "channel", "api")], records=5),
        ]
    )
    expected = pl.DataFrame({"account_id": ["c1", "c2"], "component": ["c1"] * 2})
    assert_frame_equal(prune(members, profile), expected)


def test_prompts_rotated_across_accounts_tie_them() -> None:
    # Each account spreads its traffic over eight operator prompts, 12.5% apiece.
    accounts = ["m1", "m2", "m3"]
    members = pl.DataFrame({"account_id": accounts, "component": ["m1"] * 3})
    profile = pl.concat(
        [
            keys([(a, "sys", f"prompt-{p}") for a in accounts for p in range(8)], records=5),
            keys([(a, "channel", "api") for a in accounts], records=40),
        ]
    )
    assert_frame_equal(prune(members, profile), members)


def test_templates_repeated_under_many_prompts_tie_accounts() -> None:
    # No prompt carries a tenth of anyone's traffic, but the accounts repeat the
    # same template under one of them; r1 used it twice only.
    members = pl.DataFrame({"account_id": ["m1", "m2", "r1"], "component": ["m1"] * 3})
    profile = pl.concat(
        [
            keys([(a, "systmpl", "prompt-17 | task-4") for a in ("m1", "m2")], records=3),
            keys([("r1", "systmpl", "prompt-17 | task-4")], records=2),
            keys([(a, "channel", "api") for a in ("m1", "m2", "r1")], records=500),
        ]
    )
    expected = pl.DataFrame({"account_id": ["m1", "m2"], "component": ["m1"] * 2})
    assert_frame_equal(prune(members, profile), expected)


def test_a_shared_sign_up_burst_does_not_tie_accounts_in_the_split() -> None:
    members = pl.DataFrame({"account_id": ["a", "b"], "component": ["a"] * 2})
    profile = keys(
        [(a, "signup", "free | gmail.com | 203.0.113.0/24 | 20460") for a in ("a", "b")]
        + [(a, "channel", "api") for a in ("a", "b")]
    )
    assert prune(members, profile).is_empty()
