"""Window aggregates and the running state, on frames small enough to check by hand."""

from __future__ import annotations

import random

import polars as pl
from polars.testing import assert_frame_equal

from detector.features.capability import content_flags_from_text
from detector.features.frames import RECORD_SCHEMA, narrow, tool_schema_keys
from detector.features.key_state import KeyState, empty_keys, merge_keys
from detector.features.state import empty_accounts, merge_accounts
from detector.features.windows import KEY_KINDS, KEY_SETS, KIND, aggregate_window, with_key_hashes

START = 1_767_225_600.0


def records(rows: list[dict[str, object]]) -> pl.DataFrame:
    return narrow(pl.from_dicts(rows, schema=RECORD_SCHEMA))


FRAME = records(
    [
        {
            "ts_start": START + 10,
            "account_id": "a",
            "request_model": "m1",
            "client_ip": "203.0.113.9",
            "user_agent": "sdk/1",
            "input_tokens": 100,
            "cache_read_input_tokens": 40,
            "tool_names": ["bash", "editor"],
            "prompt_fingerprint": "p1",
        },
        {
            "ts_start": START + 20,
            "account_id": "a",
            "request_model": "m2",
            "client_ip": "203.0.113.200",
            "user_agent": "sdk/1",
            "input_tokens": 50,
            "content_flags": ["cot_elicitation"],
            "reasoning_mode": "high",
            "prompt_fingerprint": "p1",
        },
        {
            "ts_start": START + 130,
            "account_id": "b",
            "request_model": "m1",
            "client_ip": "2001:db8:1:2::5",
            "image_inputs": 1,
            "status": "error",
        },
    ]
)


def test_window_accounts_sum_per_account() -> None:
    window = aggregate_window(FRAME, start=START, new_models=frozenset({"m2"}))
    got = window.accounts.select(
        "account_id",
        "records",
        "input_tokens",
        "cache_read_tokens",
        "errors",
        "cap_tool_use",
        "cap_coding",
        "cap_reasoning",
        "cap_cot_elicitation",
        "cap_vision",
        "cap_chat",
        "prompted",
        "unique_prompts",
        "new_model_records",
        "active_minutes",
    )
    expected = pl.DataFrame(
        {
            "account_id": ["a", "b"],
            "records": [2, 1],
            "input_tokens": [150, 0],
            "cache_read_tokens": [40, 0],
            "errors": [0, 1],
            "cap_tool_use": [1, 0],
            "cap_coding": [1, 0],
            "cap_reasoning": [1, 0],
            "cap_cot_elicitation": [1, 0],
            "cap_vision": [0, 1],
            "cap_chat": [0, 0],
            "prompted": [2, 0],
            "unique_prompts": [1, 0],
            "new_model_records": [1, 0],
            "active_minutes": [1, 1],
        },
        schema_overrides={"input_tokens": pl.Int64, "cache_read_tokens": pl.Int64},
    )
    assert_frame_equal(got, expected)


def test_window_keys_use_prefixes_and_composites() -> None:
    window = aggregate_window(FRAME, start=START)
    got = window.keys.filter(pl.col("kind").is_in(["ip", "ipua", "tools"])).select(
        "account_id", "kind", "value", "records"
    )
    expected = pl.DataFrame(
        {
            "account_id": ["a", "a", "a", "b"],
            "kind": ["ip", "ipua", "tools", "ip"],
            "value": ["203.0.113.0/24", "203.0.113.0/24 | sdk/1", "bash,editor", "2001:db8:1::/48"],
            "records": [2, 2, 1, 1],
        }
    )
    assert_frame_equal(got.sort("account_id", "kind", "value"), expected.cast({"kind": KIND}))


def test_window_keys_count_every_kind_as_records_would() -> None:
    # Counted by sets of columns in the aggregate; here, kind by kind from records.
    rng = random.Random(5)
    rows = [
        {
            "ts_start": START + i,
            "account_id": rng.choice("abc"),
            "request_model": "m1",
            "client_ip": rng.choice(["203.0.113.9", "198.51.100.7", None]),
            "user_agent": rng.choice(["sdk/1", "sdk/2", None]),
            "system_fingerprint": rng.choice(["s1", "s2", None]),
            "template_fingerprint": rng.choice(["t1", "t2", "t3", "t4", None]),
            "tool_names": rng.choice([["bash"], ["editor", "bash"], None]),
            "channel": rng.choice(["api", "cloud:bedrock", None]),
        }
        for i in range(400)
    ]
    frame = records(rows)
    expected = pl.concat(
        frame.select("account_id", expr.alias("value"))
        .drop_nulls("value")
        .group_by("account_id", "value")
        .agg(pl.len().cast(pl.Int64).alias("records"))
        .select("account_id", pl.lit(kind).cast(KIND).alias("kind"), "value", "records")
        for kind, expr in KEY_KINDS.items()
    )
    got = aggregate_window(frame, start=START).keys.select("account_id", "kind", "value", "records")
    order = ["account_id", "kind", "value"]
    assert_frame_equal(got.sort(order), expected.sort(order))
    # Every kind is made by exactly one set, which holds every column it reads.
    made = [kind for kinds in KEY_SETS.values() for kind in kinds]
    assert sorted(made) == sorted(KEY_KINDS)
    for columns, kinds in KEY_SETS.items():
        for kind in kinds:
            assert set(KEY_KINDS[kind].meta.root_names()) <= set(columns)


def test_merge_keeps_top_k_per_kind_and_sums_across_windows() -> None:
    first = aggregate_window(FRAME, start=START)
    second = aggregate_window(FRAME.with_columns(pl.col("ts") + 3600), start=START + 3600)
    accounts = merge_accounts(empty_accounts(), [first, second]).sort("account_id")
    assert_frame_equal(
        accounts.select("account_id", "records", "first_seen", "last_seen", "active_windows"),
        pl.DataFrame(
            {
                "account_id": ["a", "b"],
                "records": [4, 2],
                "first_seen": [START, START],
                "last_seen": [START + 3600, START + 3600],
                "active_windows": [2, 2],
            }
        ),
    )
    first = aggregate_window(prompted(START, ["s1", "s1", "s1", "s2", "s3"]), start=START)
    second = aggregate_window(prompted(START + 3600, ["s2"]), start=START + 3600)
    keys = merge_keys(KeyState(), [first, second], top_k=2).rows
    assert sorted(keys.filter(pl.col("kind") == "sys").select("value", "records").rows()) == [
        ("s1", 3),
        ("s2", 2),
    ]


def prompted(start: float, systems: list[str]) -> pl.DataFrame:
    """Account ``a``'s records, one per system prompt of ``systems``."""
    return records(
        [
            {"ts_start": start + i, "account_id": "a", "system_fingerprint": system}
            for i, system in enumerate(systems)
        ]
    )


def test_merge_breaks_ties_the_same_whatever_the_order_or_batching() -> None:
    systems = [f"s{i}" for i in range(8)]
    windows = [
        aggregate_window(
            prompted(START + 3600 * i, systems[2 * i : 2 * i + 2]), start=START + 3600 * i
        )
        for i in range(4)
    ]

    def kept(state: KeyState) -> list[str]:
        return sorted(state.rows.filter(pl.col("kind") == "sys")["value"].to_list())

    at_once = kept(merge_keys(KeyState(), windows, top_k=3))
    reversed_ = kept(merge_keys(KeyState(), windows[::-1], top_k=3))
    state = KeyState()
    for window in windows:
        state = merge_keys(state, [window], top_k=3)
    assert len(at_once) == 3
    assert at_once == reversed_ == kept(state)


def test_merge_gives_the_same_state_at_once_or_window_by_window() -> None:
    windows = [
        aggregate_window(
            prompted(START + 3600 * i, [f"s{(i * 3 + j) % 5}" for j in range(i + 2)]),
            start=START + 3600 * i,
        )
        for i in range(4)
    ]
    # No (account, kind) holds more than ten values: nothing is evicted, so both ways
    # are exact sums, and must agree row for row, hash columns included.
    at_once = merge_keys(KeyState(), windows, top_k=10).rows
    state = KeyState()
    for window in windows:
        state = merge_keys(state, [window], top_k=10)
    order = ["account_id", "kind", "value"]
    assert_frame_equal(at_once.sort(order), state.rows.sort(order))
    assert at_once.columns == empty_keys().columns
    assert sorted(state.rows.filter(pl.col("kind") == "sys").select("value", "records").rows()) == [
        ("s0", 3),
        ("s1", 3),
        ("s2", 2),
        ("s3", 3),
        ("s4", 3),
    ]


def test_text_classifier_flags_are_transparent() -> None:
    assert content_flags_from_text("Write out the reasoning behind this answer, step by step") == [
        "cot_elicitation"
    ]
    assert content_flags_from_text("Which response is better, A or B?") == ["rubric_grading"]
    assert content_flags_from_text("def parse(x):\n    return x  # refactor this") == ["code"]
    assert content_flags_from_text("What is the capital of France?") == []


def test_tool_schema_keys_ignore_the_order_tools_are_offered_in() -> None:
    names = pl.Series(
        [["web", "bash"], ["bash", "web"], None, [], ["b\x1fa", "c"], ["z"]],
        dtype=pl.List(pl.String),
    )
    keys = tool_schema_keys(names).to_list()
    assert keys == ["bash,web", "bash,web", None, "", "b\x1fa,c", "z"]
    assert tool_schema_keys(names.head(4)).to_list() == ["bash,web", "bash,web", None, ""]


def test_key_state_hashes_match_its_strings() -> None:
    # The merge trusts the hashes the windows bring: rehashing the merged state's
    # strings must give the same columns, or rows would be matched wrongly.
    windows = [
        aggregate_window(
            prompted(START + 3600 * i, ["s1", "s2", f"s{i + 3}"]), start=START + 3600 * i
        )
        for i in range(3)
    ]
    state = KeyState()
    for window in windows:
        state = merge_keys(state, [window], top_k=3)
    rows = state.rows
    hashes = ["_acct", "_tie", "_group", "_key"]
    rehashed = with_key_hashes(rows.drop(hashes)).select(rows.columns)
    assert rows.height > 0
    assert_frame_equal(rows, rehashed)


def test_tool_capabilities_match_any_one_tool_name() -> None:
    offered: list[list[str] | None] = [
        ["lookup", "Computer_20250124"],
        ["com", "puter"],  # the joined names hold "com,puter", not "computer"
        ["search", "run_python"],
        ["web_search"],
        [],
        None,
    ]
    frame = records(
        [
            {"ts_start": START + i, "account_id": "a", "tool_names": tools}
            for i, tools in enumerate(offered)
        ]
    )
    assert frame["cap_computer_use"].to_list() == [True, False, False, False, False, False]
    assert frame["cap_coding"].to_list() == [False, False, True, False, False, False]
    assert frame["cap_tool_use"].to_list() == [True, True, True, True, False, False]
    assert frame["cap_chat"].to_list() == [False, False, False, False, True, True]
