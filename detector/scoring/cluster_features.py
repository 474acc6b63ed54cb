"""Per-cluster feature vectors, from the members' running state. Pure polars."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from detector.features.capability import CAPABILITIES
from detector.features.state import HOURS
from detector.features.timezones import night_masks
from detector.features.windows import ACCOUNT_HASH, with_match_hashes

# Programmes CAMPAIGNS.md lists as the most abused sign-up paths.
ABUSED_PROGRAMS = ("edu", "startup", "research", "security-research")

# Every feature the model sees, with the range HalfSpaceTrees splits within.
FEATURE_LIMITS: dict[str, tuple[float, float]] = {
    "log_accounts": (0.0, 11.0),
    "log_records_per_account": (0.0, 12.0),
    "accounts_per_instrument": (0.0, 50.0),
    "shared_payment_share": (0.0, 1.0),
    "cross_org_payment_share": (0.0, 1.0),
    "org_count": (0.0, 50.0),
    "single_org": (0.0, 1.0),
    "ip_prefixes_per_account": (0.0, 1.0),
    "top_system_share": (0.0, 1.0),
    "top_tools_share": (0.0, 1.0),
    "top_template_share": (0.0, 1.0),
    "capability_divergence": (0.0, 1.0),
    "top_capability_share": (0.0, 1.0),
    **{f"share_{name}": (0.0, 1.0) for name in CAPABILITIES},
    "cache_reuse": (0.0, 1.0),
    "duplicate_share": (0.0, 1.0),
    "new_model_share": (0.0, 1.0),
    "hour_flatness": (0.0, 1.0),
    "duty_cycle": (0.0, 1.0),
    "lockstep": (-1.0, 1.0),
    "signup_burst_share": (0.0, 1.0),
    "abused_program_share": (0.0, 1.0),
    "channels": (0.0, 10.0),
    "error_share": (0.0, 1.0),
    "volume_spread": (0.0, 3.0),
    "span_hours": (0.0, 24.0 * 60),
    "template_accounts_share": (0.0, 1.0),
    "night_accounts_share": (0.0, 1.0),
}
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURE_LIMITS)

# An account's records per hour from its first record to its last.
_LIFE_RATE = pl.col("records") / ((pl.col("last_seen") - pl.col("first_seen")) / 3600 + 1)


def _top_share(keys: pl.DataFrame, kind: str) -> pl.DataFrame:
    """Per cluster: the share of its records that go to its single most used value."""
    per_value = (
        keys.filter(pl.col("kind") == kind)
        .group_by("cluster_id", "_tie")
        .agg(pl.col("records").sum())
    )
    return per_value.group_by("cluster_id").agg(
        pl.col("records").max().alias(f"top_{kind}"),
    )


def cluster_features(
    members: pl.DataFrame,
    accounts: pl.DataFrame,
    keys: pl.DataFrame,
    meta: pl.DataFrame,
    minutes: pl.DataFrame,
) -> pl.DataFrame:
    """One row per cluster: ``cluster_id``, ``account_count``, ``record_count`` and
    every name of ``FEATURE_NAMES``.

    ``members`` maps ``account_id`` to ``cluster_id``; ``accounts`` and ``keys`` are
    the running account state; ``meta`` the sign-up metadata (``account_id``,
    ``created_at``, ``payment_fingerprint``, ``program``, ``org_id``); ``minutes``
    the per-minute counts of recent windows (``account_id``, ``slot``, ``records``).
    """
    state = accounts.join(members, on="account_id")
    caps = [f"cap_{name}" for name in CAPABILITIES]
    totals = state.group_by("cluster_id").agg(
        pl.len().alias("account_count"),
        pl.col("records").sum().alias("record_count"),
        *[pl.col(c).sum() for c in caps],
        pl.col("input_tokens").sum(),
        pl.col("cache_read_tokens").sum(),
        pl.col("prompted").sum(),
        pl.col("unique_prompts").sum(),
        pl.col("new_model_records").sum(),
        pl.col("errors").sum(),
        pl.col("active_minutes").sum(),
        pl.col("active_windows").sum(),
        ((pl.col("last_seen").max() - pl.col("first_seen").min()) / 3600 + 1).alias("span_hours"),
        # Spread of the members' rates over each one's own life (first to last
        # record): the coefficient of variation. Over active hours alone, people who
        # use a product in bursts of similar pace look as even as a rate-limited farm.
        _LIFE_RATE.std().fill_null(0.0).alias("_rate_sd"),
        _LIFE_RATE.mean().alias("_rate_mean"),
    )
    population = accounts.select([pl.col(c).sum() for c in caps]).row(0)
    pop_total = max(1, sum(population))
    pop_mix = np.array(population, dtype=float) / pop_total

    # The members are a small part of the active accounts: a mask before the join,
    # both on account hashes; values are grouped and counted by hash too
    # (``with_match_hashes``), as only their number and shares are features.
    hashed = members.with_columns(ACCOUNT_HASH)
    member_keys = (
        with_match_hashes(keys)
        .select("_acct", "kind", "_tie", "records")
        .filter(pl.col("_acct").is_in(hashed["_acct"].implode()))
        .join(hashed, on="_acct")
    )
    tops = [_top_share(member_keys, kind) for kind in ("sys", "tools", "tmpl")]
    template_users = (
        member_keys.filter((pl.col("kind") == "systmpl") & (pl.col("records") >= 3))
        .group_by("cluster_id", "_tie")
        .agg(pl.col("_acct").n_unique().alias("n"))
        .group_by("cluster_id")
        .agg(pl.col("n").max().alias("template_users"))
    )
    spread = member_keys.group_by("cluster_id").agg(
        pl.col("_tie").filter(pl.col("kind") == "ip").n_unique().alias("ip_prefixes"),
        pl.col("_acct").filter(pl.col("kind") == "ip").n_unique().alias("ip_accounts"),
        pl.col("_tie").filter(pl.col("kind") == "channel").n_unique().alias("channels"),
    )
    signup = _signup_features(meta.join(members, on="account_id"), state)
    frame = totals
    nights = night_accounts(state, meta)
    for part in (*tops, template_users, spread, signup, day_shape(state), nights):
        frame = frame.join(part, on="cluster_id", how="left")
    frame = frame.with_columns(pl.col("hour_flatness").fill_null(UNSHAPED_FLATNESS)).fill_null(0)
    lockstep = lockstep_scores(members, minutes)
    frame = frame.join(lockstep, on="cluster_id", how="left").with_columns(
        pl.col("lockstep").fill_null(0.0)
    )
    return _finish(frame, pop_mix).sort("cluster_id")


def account_orgs(meta: pl.DataFrame, state: pl.DataFrame) -> pl.DataFrame:
    """Each member's organisation (``cluster_id``, ``account_id``, ``org_id``): the one
    its sign-up declares, else the first its records carried. Once known, it holds for
    the account, so an organisation declared only at sign-up is still one organisation
    though none of its records name it."""
    declared = meta.select("account_id", pl.col("org_id").alias("_declared"))
    return (
        state.select("cluster_id", "account_id", "org_id")
        .join(declared, on="account_id", how="left")
        .select(
            "cluster_id",
            "account_id",
            pl.coalesce("_declared", "org_id").alias("org_id"),
        )
    )


def with_card_owners(meta: pl.DataFrame) -> pl.DataFrame:
    """``meta`` with ``card_owners``: how many owners (an organisation, else the
    account itself) the account's payment instrument pays for across the platform.
    Counted over every account, not a cluster's members: a card farm's accounts are
    replaced over time and fall into different clusters, while the card stays one."""
    owner = pl.coalesce("org_id", pl.lit("account:") + pl.col("account_id"))
    return meta.with_columns(
        pl.when(pl.col("payment_fingerprint").is_not_null())
        .then(owner.n_unique().over("payment_fingerprint"))
        .otherwise(0)
        .cast(pl.Int64)
        .alias("card_owners")
    )


def _signup_features(meta: pl.DataFrame, state: pl.DataFrame) -> pl.DataFrame:
    orgs = account_orgs(meta, state)
    org = orgs.group_by("cluster_id").agg(
        pl.col("org_id").drop_nulls().n_unique().alias("org_count"),
        pl.col("org_id").null_count().alias("no_org"),
    )
    day = (pl.col("created_at") // 86_400).cast(pl.Int64)
    per_day = meta.group_by("cluster_id", day.alias("day")).agg(pl.len().alias("n"))
    burst = per_day.group_by("cluster_id").agg(pl.col("n").max().alias("burst_max"))
    if "card_owners" not in meta.columns:
        # A frame built by hand: the cluster's own accounts are all there is to count.
        meta = with_card_owners(meta)
    pay = meta.drop_nulls("payment_fingerprint").with_columns(
        pl.col("account_id")
        .n_unique()
        .over("cluster_id", "payment_fingerprint")
        .alias("pay_users"),
    )
    payment = pay.group_by("cluster_id").agg(
        pl.col("payment_fingerprint").n_unique().alias("instruments"),
        pl.len().alias("paying_accounts"),
        (pl.col("pay_users") >= 2).sum().alias("shared_payment_accounts"),
        # One card paying for three organisations or more: what organisations do
        # not do (two may be a household's, or a person's work and own accounts).
        # Shared inside the cluster too: a victim's card that two farm accounts
        # elsewhere reuse says nothing of the victim's own cluster.
        ((pl.col("card_owners") >= 3) & (pl.col("pay_users") >= 2))
        .sum()
        .alias("cross_org_payment_accounts"),
    )
    programs = meta.group_by("cluster_id").agg(
        pl.col("program").is_in(list(ABUSED_PROGRAMS)).sum().alias("abused_accounts"),
        pl.len().alias("meta_accounts"),
    )
    return (
        programs.join(org, on="cluster_id", how="full", coalesce=True)
        .join(burst, on="cluster_id", how="left")
        .join(payment, on="cluster_id", how="left")
        .fill_null(0)
    )


# An account's day shape means something once it has this many records: below it, a
# flat account and a diurnal one are hard to tell apart (with 24 records spread evenly
# the corrected flatness is 0.85–1.0; from 48 it is 0.93–1.0, while office hours stay
# under 0.87 at any volume).
MIN_SHAPED_RECORDS = 48
# Where no member has a day shape yet: between ``human_rhythm``'s and
# ``round_the_clock``'s limits, so that neither fires on a guess.
UNSHAPED_FLATNESS = 0.9


def account_flatness(hours: np.ndarray) -> np.ndarray:
    """Per row of hour-of-day counts: the entropy of its shape over that of a flat
    day, with the Miller–Madow correction ``(m - 1) / 2n`` (m busy hours, n records)
    for the bias of an entropy estimated from few records. 1 is flat round the clock."""
    n = hours.sum(axis=1, keepdims=True).clip(1, None)
    shape = hours / n
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(shape > 0, shape * np.log(shape), 0.0).sum(axis=1)
    busy = (hours > 0).sum(axis=1)
    corrected = entropy + (busy - 1).clip(0, None) / (2 * n[:, 0])
    return np.clip(corrected / math.log(24), 0.0, 1.0)  # type: ignore[no-any-return]


def day_shape(state: pl.DataFrame) -> pl.DataFrame:
    """Per cluster: ``hour_flatness``, the median day shape of its members that have
    one (``account_flatness``, from ``MIN_SHAPED_RECORDS`` records).

    Judged per account, never on the cluster's summed volume: the users of a framework
    across every timezone sum to a flat day though each of them keeps office hours,
    while every account of a campaign runs round the clock on its own.
    """
    hours = state.select(HOURS).to_numpy().astype(float)
    frame = pl.DataFrame(
        {
            "cluster_id": state["cluster_id"],
            "flat": account_flatness(hours),
            "n": hours.sum(axis=1),
        }
    )
    return (
        frame.filter(pl.col("n") >= MIN_SHAPED_RECORDS)
        .group_by("cluster_id")
        .agg(pl.col("flat").median().alias("hour_flatness"))
    )


# An account is up at night where it signed up when half its records fall in that
# country's dead of night (00:00-06:00 local): a quarter of a flat day's, a few per
# cent of a person's, all of a remote operator's working day.
NIGHT_SHARE = 0.5


def night_accounts(state: pl.DataFrame, meta: pl.DataFrame) -> pl.DataFrame:
    """Per cluster: ``night_accounts``, how many members with a day shape (from
    ``MIN_SHAPED_RECORDS`` records) send most of their traffic in the night of the
    country they signed up from (``features.timezones``). Per account, from its own
    hours: a framework's users worldwide are each awake in their own day."""
    if "country" not in meta.columns:
        return pl.DataFrame(schema={"cluster_id": pl.String(), "night_accounts": pl.Int64()})
    joined = state.select("cluster_id", "account_id", *HOURS).join(
        meta.select("account_id", "country"), on="account_id", how="left"
    )
    hours = joined.select(HOURS).to_numpy().astype(float)
    records = hours.sum(axis=1)
    masks = night_masks(joined["country"])
    night = (hours * masks).sum(axis=1) / records.clip(1, None)
    up = (records >= MIN_SHAPED_RECORDS) & masks.any(axis=1) & (night >= NIGHT_SHARE)
    return (
        pl.DataFrame({"cluster_id": joined["cluster_id"], "up": up})
        .group_by("cluster_id")
        .agg(pl.col("up").sum().cast(pl.Int64).alias("night_accounts"))
    )


def lockstep_scores(members: pl.DataFrame, minutes: pl.DataFrame, sample: int = 64) -> pl.DataFrame:
    """Per cluster: the mean correlation of members' per-minute volume with the rest
    of the cluster (SynchroTrap's intuition: coordinated accounts move together).

    At most ``sample`` members (the busiest, then by id) are compared, so the cost
    stays bounded for clusters of thousands.
    """
    joined = minutes.join(members, on="account_id")
    empty = pl.DataFrame(schema={"cluster_id": pl.String(), "lockstep": pl.Float64()})
    if joined.is_empty():
        return empty
    slots = int(joined["slot"].cast(pl.Int64).max() or 0) + 1  # type: ignore[arg-type]
    busiest = (
        joined.group_by("cluster_id", "account_id")
        .agg(pl.col("records").sum())
        .sort(["cluster_id", "records", "account_id"], descending=[False, True, False])
        .filter(pl.int_range(pl.len()).over("cluster_id") < sample)
        .filter(pl.len().over("cluster_id") >= 3)
        .select("cluster_id", "account_id")
    )
    if busiest.is_empty():
        return empty
    # One matrix row per picked member, members in id order within each cluster.
    rows = busiest.sort("cluster_id", "account_id").with_row_index("row")
    picked = joined.join(rows, on=["cluster_id", "account_id"])
    matrix = np.zeros((rows.height, slots))
    matrix[picked["row"].to_numpy(), picked["slot"].to_numpy()] = picked["records"].to_numpy()
    clusters = rows.group_by("cluster_id", maintain_order=True).agg(
        pl.col("row").min().alias("first"), pl.len().alias("n")
    )
    out: list[tuple[str, float]] = []
    for cluster_id, first, n in clusters.iter_rows():
        block = matrix[first : first + n]
        rest = block.sum(axis=0) - block
        out.append((str(cluster_id), float(np.mean(_row_correlations(block, rest)))))
    return pl.DataFrame(
        out, schema={"cluster_id": pl.String(), "lockstep": pl.Float64()}, orient="row"
    )


def _row_correlations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row of ``a`` with the same row of ``b``; 0 where
    either row is constant (as ``np.corrcoef`` per row pair, without its per-call cost)."""
    ac = a - a.mean(axis=1, keepdims=True)
    bc = b - b.mean(axis=1, keepdims=True)
    constant = (a.std(axis=1) == 0) | (b.std(axis=1) == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (ac * bc).sum(axis=1) / np.sqrt((ac * ac).sum(axis=1) * (bc * bc).sum(axis=1))
    return np.where(constant, 0.0, np.clip(r, -1.0, 1.0))


def _finish(frame: pl.DataFrame, pop_mix: np.ndarray) -> pl.DataFrame:
    caps = [f"cap_{name}" for name in CAPABILITIES]
    records = pl.col("record_count").clip(1, None)
    mix = frame.select(caps).to_numpy().astype(float)
    mix = mix / mix.sum(axis=1, keepdims=True).clip(1e-9, None)
    divergence = 0.5 * np.abs(mix - pop_mix).sum(axis=1)
    instruments = pl.col("instruments").clip(1, None)
    return frame.with_columns(
        pl.col("account_count").log().alias("log_accounts"),
        (records / pl.col("account_count")).log().alias("log_records_per_account"),
        pl.when(pl.col("instruments") > 0)
        .then(pl.col("paying_accounts") / instruments)
        .otherwise(0.0)
        .alias("accounts_per_instrument"),
        (pl.col("shared_payment_accounts") / pl.col("account_count")).alias("shared_payment_share"),
        (pl.col("cross_org_payment_accounts") / pl.col("account_count")).alias(
            "cross_org_payment_share"
        ),
        pl.col("org_count").cast(pl.Float64),
        ((pl.col("org_count") == 1) & (pl.col("no_org") == 0)).cast(pl.Float64).alias("single_org"),
        # Over the accounts whose addresses are known: an unknown address is not a
        # shared one (and a gateway's end users have none of their own).
        pl.when(pl.col("ip_accounts") > 0)
        .then(pl.col("ip_prefixes") / pl.col("ip_accounts"))
        .otherwise(1.0)
        .clip(0, 1)
        .alias("ip_prefixes_per_account"),
        (pl.col("top_sys") / records).alias("top_system_share"),
        (pl.col("top_tools") / records).alias("top_tools_share"),
        (pl.col("top_tmpl") / records).alias("top_template_share"),
        pl.Series("capability_divergence", divergence),
        pl.Series("top_capability_share", mix.max(axis=1)),
        *[(pl.col(f"cap_{name}") / records).alias(f"share_{name}") for name in CAPABILITIES],
        (pl.col("cache_read_tokens") / pl.col("input_tokens").clip(1, None)).alias("cache_reuse"),
        # Without prompt fingerprints nothing is known of repeats: none, not all.
        pl.when(pl.col("prompted") > 0)
        .then(1 - pl.col("unique_prompts") / pl.col("prompted"))
        .otherwise(0.0)
        .clip(0, 1)
        .alias("duplicate_share"),
        (pl.col("new_model_records") / records).alias("new_model_share"),
        (pl.col("active_minutes") / (60 * pl.col("active_windows").clip(1, None))).alias(
            "duty_cycle"
        ),
        (pl.col("burst_max") / pl.col("account_count")).clip(0, 1).alias("signup_burst_share"),
        (pl.col("abused_accounts") / pl.col("account_count"))
        .clip(0, 1)
        .alias("abused_program_share"),
        pl.col("channels").cast(pl.Float64),
        (pl.col("errors") / records).alias("error_share"),
        (pl.col("_rate_sd") / pl.col("_rate_mean")).alias("volume_spread"),
        (pl.col("template_users") / pl.col("account_count")).alias("template_accounts_share"),
        (pl.col("night_accounts") / pl.col("account_count")).alias("night_accounts_share"),
    ).select(
        "cluster_id",
        "account_count",
        "record_count",
        "instruments",
        "ip_prefixes",
        *[pl.col(name).cast(pl.Float64) for name in FEATURE_NAMES],
    )
