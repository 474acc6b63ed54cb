"""Each campaign's signature is measurably present, and so is every look-alike."""

from __future__ import annotations

import itertools
from datetime import datetime

import numpy as np
import polars as pl

from tests.synth.conftest import Run


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _per_minute(records: pl.DataFrame, accounts: list[str], lo: float, hi: float) -> np.ndarray:
    minutes = int((hi - lo) // 60) + 1
    out = np.zeros((len(accounts), minutes))
    index = {a: i for i, a in enumerate(accounts)}
    rows = records.filter(
        pl.col("account_id").is_in(accounts) & pl.col("ts_start").is_between(lo, hi)
    )
    for account, ts in rows.select("account_id", "ts_start").iter_rows():
        out[index[account], int((ts - lo) // 60)] += 1
    return out


def _mean_correlation(matrix: np.ndarray) -> float:
    corr = np.corrcoef(matrix)
    pairs = [corr[i, j] for i, j in itertools.combinations(range(len(matrix)), 2)]
    return float(np.nanmean(pairs))


def test_deepseek_per_minute_counts_move_together_and_honest_ones_do_not(run: Run) -> None:
    deepseek = run.records.filter(pl.col("source") == "deepseek")
    lo, hi = deepseek["ts_start"].min(), deepseek["ts_start"].max()
    accounts = deepseek["account_id"].unique().sort().to_list()
    # Compare accounts over a week in which all of them are active.
    mid = (lo + hi) / 2
    window = (mid - 3.5 * 86_400, mid + 3.5 * 86_400)
    synced = _mean_correlation(_per_minute(deepseek, accounts, *window))
    honest = run.records.filter(pl.col("source") == "general")
    per_account = honest.filter(pl.col("ts_start").is_between(*window)).group_by("account_id").len()
    busy = per_account.sort("len", descending=True).head(len(accounts))["account_id"].to_list()
    independent = _mean_correlation(_per_minute(honest, busy, *window))
    assert synced > 0.5
    assert independent < 0.1


def test_half_of_minimax_moves_to_the_new_model_within_a_day(run: Run) -> None:
    release = _epoch(run.scenario["release"]["time"])
    model = run.scenario["release"]["model"]
    minimax = run.records.filter(pl.col("source") == "minimax")
    before = minimax.filter(pl.col("ts_start") < release)
    late_first_day = minimax.filter(
        pl.col("ts_start").is_between(release + 12 * 3600, release + 24 * 3600)
    )
    assert (before["request_model"] == model).sum() == 0
    share = (late_first_day["request_model"] == model).mean()
    assert 0.4 <= share <= 0.6  # "nearly half of its traffic" within 24 h
    general = run.records.filter(
        (pl.col("source") == "general") & pl.col("ts_start").is_between(release, release + 86_400)
    )
    assert (general["request_model"] == model).mean() < 0.15  # honest users adopt slowly


def test_moonshot_switches_to_reasoning_extraction_in_phase_two(run: Run) -> None:
    phase2 = _epoch(run.scenario["campaigns"]["moonshot"]["phase2_start"])
    moonshot = run.records.filter(pl.col("source") == "moonshot")
    first = moonshot.filter(pl.col("ts_start") < phase2)
    second = moonshot.filter(pl.col("ts_start") >= phase2)
    new_systems = set(second["system_fingerprint"]) - set(first["system_fingerprint"])
    share_new = second["system_fingerprint"].is_in(list(new_systems)).mean()
    thinking = lambda f: (f["reasoning_mode"] != "none").mean()  # noqa: E731
    assert share_new > 0.4
    assert thinking(second) > thinking(first) + 0.3
    assert (first["image_inputs"] > 0).mean() > (second["image_inputs"] > 0).mean()


def test_minimax_is_agentic_flat_and_reuses_a_few_schemas(run: Run) -> None:
    minimax = run.records.filter(pl.col("source") == "minimax")
    assert minimax["tool_names"].is_not_null().mean() >= 0.85
    assert minimax["tool_names"].drop_nulls().n_unique() <= 3
    assert minimax["system_fingerprint"].n_unique() <= 4
    hours = (minimax["ts_start"] % 86_400 // 3600).value_counts()["count"].to_numpy()
    assert hours.min() > 0.8 * hours.mean()  # flat around the clock
    cache = (minimax["cache_read_input_tokens"] / minimax["input_tokens"]).mean()
    enterprise = run.records.filter(pl.col("source") == "enterprise")
    assert cache < 0.1 < (enterprise["cache_read_input_tokens"] / enterprise["input_tokens"]).mean()


def test_deepseek_shares_payment_instruments_and_asks_for_reasoning(run: Run) -> None:
    truth = run.truth.join(run.accounts, on="account_id")
    deepseek = truth.filter(pl.col("label") == "deepseek")
    assert (
        deepseek["payment_fingerprint"].n_unique()
        <= run.plan.effective.deepseek.payment_instruments
    )
    records = run.records.filter(pl.col("source") == "deepseek")
    assert (records["reasoning_mode"] != "none").all()


def test_every_look_alike_is_present_with_its_shape(run: Run) -> None:
    kinds = set(run.truth["kind"])
    expected = {
        "enterprise_coding_agent",
        "evaluation_harness",
        "agent_framework_user",
        "hackathon_cohort",
        "corporate_nat",
        "batch_job",
        "proxy_customer",
        "general",
    }
    assert expected <= kinds
    r = run.records
    # Evaluation harnesses replay a finite item set as exact duplicates.
    evals = r.filter(pl.col("kind") == "evaluation_harness")
    assert evals["prompt_fingerprint"].n_unique() < evals.height / 2
    # Thousands of framework users share one system prompt and tool schema...
    framework = r.filter(pl.col("kind") == "agent_framework_user")
    top_system = framework["system_fingerprint"].value_counts(sort=True).row(0)[0]
    users = framework.filter(pl.col("system_fingerprint") == top_system)["account_id"].n_unique()
    assert users >= 30
    # ...but pay independently.
    accounts = run.truth.join(run.accounts, on="account_id")
    fw = accounts.filter(pl.col("kind") == "agent_framework_user")
    assert fw["payment_fingerprint"].n_unique() > 0.8 * fw.height
    # Cohorts sign up in a burst behind a campus NAT, with an edu domain.
    cohort = accounts.filter(pl.col("kind") == "hackathon_cohort")
    first = cohort.group_by("group").agg(
        spread=pl.col("created_at").max() - pl.col("created_at").min(),
        ips=pl.col("signup_ip").n_unique(),
        edu=pl.col("email_domain").str.ends_with(".edu").all(),
    )
    assert (first["spread"] <= 2 * 3600).all() and (first["ips"] == 1).all() and first["edu"].all()
    # Corporate NATs put many end users behind one address.
    nat = r.filter(pl.col("kind") == "corporate_nat")
    assert (
        nat.group_by("client_ip").agg(pl.col("end_user_id").n_unique())["end_user_id"].max() >= 20
    )
    # An organisation's accounts share its office, lab or NAT addresses...
    grouped = r.join(run.truth.select("account_id", "group"), on="account_id")
    for shared in ("enterprise_coding_agent", "corporate_nat", "evaluation_harness"):
        per_group = (
            grouped.filter(pl.col("kind") == shared)
            .group_by("group")
            .agg(pl.col("client_ip").n_unique(), pl.col("account_id").n_unique())
        )
        assert (per_group["client_ip"] <= 2).all(), shared
    # ...and a cohort works from its campus NAT (two of every member's three addresses).
    members = grouped.filter(pl.col("kind") == "hackathon_cohort").join(
        run.accounts.select("account_id", "signup_ip"), on="account_id"
    )
    assert (members["client_ip"] == members["signup_ip"]).mean() > 0.2
    campus = members.group_by("group").agg(pl.col("client_ip").n_unique(), pl.len())
    assert (campus["client_ip"] < campus["len"] / 5).all()
    # Batch jobs run on the batch channel from one account each.
    batch = r.filter(pl.col("kind") == "batch_job")
    assert (batch["channel"] == "batch").all()


def test_proxy_ips_carry_campaign_and_benign_traffic(run: Run) -> None:
    on_proxy = run.records.filter(
        pl.col("client_ip").is_in(
            run.records.filter(pl.col("source") == "minimax")["client_ip"].unique().implode()
        )
    )
    shares = on_proxy.group_by("client_ip").agg(benign=(pl.col("source") != "minimax").mean())
    assert 0.2 <= shares["benign"].mean() <= 0.6
    assert (shares["benign"] > 0).all()
    # Benign proxy traffic comes both from customers' own accounts and through the hydra's.
    assert {"proxy_customer", "proxy_resale"} <= set(on_proxy["source"])


def test_no_value_only_campaigns_use(run: Run) -> None:
    """Client strings and e-mail domains of campaign accounts are common among honest ones."""
    r = run.records
    honest_agents = (
        r.filter(pl.col("label") == "honest")
        .group_by("user_agent")
        .agg(pl.col("account_id").n_unique())
    )
    common = dict(honest_agents.iter_rows())
    for agent in r.filter(pl.col("label") != "honest")["user_agent"].unique():
        assert common.get(agent, 0) >= 3, agent
    accounts = run.truth.join(run.accounts, on="account_id")
    honest_domains = set(accounts.filter(pl.col("label") == "honest")["email_domain"])
    campaign_domains = accounts.filter(pl.col("label") != "honest")["email_domain"]
    assert campaign_domains.is_in(list(honest_domains)).mean() > 0.7
    # Ids are opaque and shaped the same for everyone.
    assert r["account_id"].str.len_chars().n_unique() == 1
