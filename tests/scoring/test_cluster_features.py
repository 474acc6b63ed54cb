"""Cluster features on small frames built by hand: organisations as entities, and
timing judged per account rather than on a cluster's summed volume."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from detector.features.state import HOURS, empty_accounts
from detector.features.timezones import night_hours, night_masks
from detector.pipeline.engine import META_SCHEMA
from detector.scoring.cluster_features import (
    MIN_SHAPED_RECORDS,
    UNSHAPED_FLATNESS,
    account_flatness,
    account_orgs,
    cluster_features,
    day_shape,
)
from detector.scoring.signatures import (
    human_rhythm,
    night_shift,
    one_organisation,
    round_the_clock,
)

OFFICE = [0] * 9 + [10] * 8 + [0] * 7  # 09:00-17:00 local, ten calls an hour


def office_hours(tz: int) -> list[int]:
    """The office day of an account ``tz`` hours east of UTC, in UTC hours."""
    return [OFFICE[(hour + tz) % 24] for hour in range(24)]


def state(hours: dict[str, list[int]], orgs: dict[str, str | None] | None = None) -> pl.DataFrame:
    """Account state with the given hour-of-day counts, a day of traffic each."""
    base = empty_accounts()
    rows = []
    for account, counts in hours.items():
        row: dict[str, object] = {name: 0 for name in base.columns}
        row |= dict(zip(HOURS, counts, strict=True))
        row |= {
            "account_id": account,
            "first_seen": 0.0,
            "last_seen": 2 * 86_400.0,
            "records": sum(counts),
            "active_windows": sum(1 for c in counts if c),
            "input_tokens": 1000 * sum(counts),
            "org_id": (orgs or {}).get(account),
        }
        rows.append(row)
    return pl.DataFrame(rows, schema=base.schema)


def meta(
    orgs: dict[str, str | None],
    pay: str | None = "card-1",
    countries: dict[str, str] | None = None,
) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "account_id": a,
                "created_at": 0.0,
                "org_id": org,
                "payment_fingerprint": pay,
                "country": (countries or {}).get(a),
            }
            for a, org in orgs.items()
        ],
        schema=META_SCHEMA,
    )


def features(accounts: pl.DataFrame, signup: pl.DataFrame) -> dict[str, float]:
    members = accounts.select("account_id", pl.lit("k1").alias("cluster_id"))
    keys = pl.DataFrame(
        schema={
            "account_id": pl.String(),
            "kind": pl.String(),
            "value": pl.String(),
            "records": pl.Int64(),
        }
    )
    minutes = pl.DataFrame(
        schema={"account_id": pl.String(), "slot": pl.Int64(), "records": pl.Int64()}
    )
    frame = cluster_features(members, accounts, keys, signup, minutes)
    assert frame.height == 1
    return frame.row(0, named=True)


# -- organisations --------------------------------------------------------------------


def test_an_organisation_declared_at_sign_up_holds_for_records_that_do_not_name_it() -> None:
    names = [f"a{i}" for i in range(12)]
    accounts = state({a: OFFICE for a in names})  # no org_id on any record
    x = features(accounts, meta(dict.fromkeys(names, "acme")))
    assert x["single_org"] == 1.0 and x["org_count"] == 1.0
    assert one_organisation(x) is not None


def test_account_orgs_prefers_the_declared_organisation() -> None:
    accounts = state({"a": OFFICE, "b": OFFICE, "c": OFFICE}, orgs={"a": "rec-a", "b": "rec-b"})
    accounts = accounts.with_columns(pl.lit("k1").alias("cluster_id"))
    got = account_orgs(meta({"a": "acme", "b": None, "c": None}), accounts).sort("account_id")
    expected = pl.DataFrame(
        {"cluster_id": ["k1"] * 3, "account_id": ["a", "b", "c"], "org_id": ["acme", "rec-b", None]}
    )
    assert_frame_equal(got, expected)


def test_many_organisations_are_not_one() -> None:
    names = [f"a{i}" for i in range(12)]
    x = features(state({a: OFFICE for a in names}), meta({a: f"org-{a}" for a in names}))
    assert x["single_org"] == 0.0 and x["org_count"] == 12.0
    assert one_organisation(x) is None


def test_an_account_without_an_organisation_breaks_single_org() -> None:
    names = [f"a{i}" for i in range(5)]
    orgs: dict[str, str | None] = {a: "acme" for a in names[:-1]} | {names[-1]: None}
    x = features(state({a: OFFICE for a in names}), meta(orgs))
    assert x["single_org"] == 0.0


# -- timing per account ---------------------------------------------------------------


def test_a_worldwide_user_base_keeps_office_hours_though_its_sum_is_flat() -> None:
    # One account in every timezone: the summed day is flat, each account's is not.
    hours = {f"u{tz:02d}": office_hours(tz) for tz in range(24)}
    summed = np.array(list(hours.values())).sum(axis=0)
    assert account_flatness(summed[None, :])[0] == pytest.approx(1.0)
    x = features(state(hours), meta({a: f"org-{a}" for a in hours}, pay=None))
    assert x["hour_flatness"] < 0.7
    assert round_the_clock(x | {"span_hours": 48.0, "account_count": 24.0}) is None
    assert human_rhythm(x | {"span_hours": 48.0}) is not None


def test_accounts_flat_round_the_clock_read_as_flat() -> None:
    hours = {f"m{i}": [5] * 24 for i in range(6)}
    x = features(state(hours), meta({a: None for a in hours}, pay=None))
    assert x["hour_flatness"] == pytest.approx(1.0)


def test_day_shape_is_the_median_over_accounts_with_enough_records() -> None:
    shaped = {"a": [5] * 24, "b": [5] * 24, "c": office_hours(0)}
    few = {"d": [1] + [0] * 23}  # one record: no day shape
    frame = state(shaped | few).with_columns(pl.lit("k1").alias("cluster_id"))
    got = day_shape(frame)
    expected = pl.DataFrame({"cluster_id": ["k1"], "hour_flatness": [1.0]})
    assert_frame_equal(got, expected)


def test_a_cluster_without_any_day_shape_gets_the_neutral_flatness() -> None:
    hours = {f"s{i}": [1] * 4 + [0] * 20 for i in range(5)}
    assert sum(hours["s0"]) < MIN_SHAPED_RECORDS
    x = features(state(hours), meta({a: None for a in hours}, pay=None))
    assert x["hour_flatness"] == UNSHAPED_FLATNESS
    assert round_the_clock(x | {"span_hours": 48.0, "account_count": 5.0}) is None
    assert human_rhythm(x | {"span_hours": 48.0}) is None


# -- hours kept against the country claimed -------------------------------------------


def test_accounts_working_through_the_night_where_they_signed_up() -> None:
    # One operator's office day at UTC-6, on accounts that claim Japan, Germany,
    # India, China and the United States: in Japan, India and China that day is night.
    claimed = {"jp": "JP", "de": "DE", "in": "IN", "cn": "CN", "us": "US"}
    hours = {a: office_hours(-6) for a in claimed}
    x = features(state(hours), meta({a: f"org-{a}" for a in claimed}, countries=claimed))
    assert x["night_accounts_share"] == pytest.approx(3 / 5)
    assert night_shift(x) is not None
    assert human_rhythm(x | {"span_hours": 48.0}) is None


def test_a_worldwide_user_base_is_awake_in_its_own_days() -> None:
    zones = {"JP": 9, "DE": 1, "IN": 5, "CN": 8, "US": -6, "BR": -3, "GB": 0, "AU": 10}
    hours = {country.lower(): office_hours(tz) for country, tz in zones.items()}
    claimed = {country.lower(): country for country in zones}
    x = features(state(hours), meta({a: f"org-{a}" for a in hours}, countries=claimed))
    assert x["night_accounts_share"] == 0.0
    assert night_shift(x) is None


def test_unknown_countries_and_thin_accounts_are_not_judged() -> None:
    night_in_japan = [10] * 6 + [0] * 18  # 00:00-06:00 UTC: 09:00-15:00 in Japan
    tokyo_night = [0] * 15 + [10] * 6 + [0] * 3  # 15:00-21:00 UTC: 00:00-06:00 in Japan
    hours = {"a": tokyo_night, "b": tokyo_night, "c": [1] * 2 + [0] * 22, "d": night_in_japan}
    claimed = {"a": "XX", "b": "RU", "c": "JP", "d": "JP"}  # unknown; too wide; thin; day
    x = features(state(hours), meta({a: f"org-{a}" for a in hours}, countries=claimed))
    assert x["night_accounts_share"] == 0.0


def test_night_hours_of_a_country_spanning_zones_are_night_in_all_of_them() -> None:
    assert night_hours("JP") == frozenset(range(15, 21))
    assert night_hours("US") == frozenset({8, 9, 10})  # 00-06 at UTC-5 and at UTC-8
    assert night_hours("RU") == frozenset()
    assert night_hours(None) == frozenset()
    masks = night_masks(pl.Series(["JP", None, "ZZ"]))
    assert masks.sum(axis=1).tolist() == [6, 0, 0]


@pytest.mark.parametrize(
    ("counts", "low", "high"),
    [
        ([2] * 24, 0.99, 1.0),
        (OFFICE, 0.6, 0.7),
        ([48] + [0] * 23, 0.0, 0.0),
        ([0] * 24, 0.0, 0.0),
    ],
    ids=["flat", "office-hours", "one-hour", "no-records"],
)
def test_account_flatness(counts: list[int], low: float, high: float) -> None:
    value = float(account_flatness(np.array([counts], dtype=float))[0])
    assert low <= value <= high
