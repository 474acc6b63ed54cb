"""Explicit campaign signatures (CAMPAIGNS.md, "Signals") and what honest look-alikes
show instead, each as evidence in log-odds with the sentence a reviewer reads.

Weights are set by hand from the order of the signals in CAMPAIGNS.md (most telling
first), not fitted: they must hold on traffic nobody labelled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Evidence:
    name: str
    weight: float
    reason: str


def _pct(value: float) -> str:
    return f"{round(100 * value)}%"


def _rate(value: float) -> str:
    # Two significant figures: one decimal place shows 0.04 an hour as "0.0".
    return f"{value:.2g}" if value < 1 else f"{value:.1f}"


Row = Mapping[str, float]
Rule = Callable[[Row], Evidence | None]


def shared_payment(x: Row) -> Evidence | None:
    # One card paying for several organisations (counted over the platform: a card
    # farm may be as small as three accounts, and replaced accounts fall into other
    # clusters). Accounts of one organisation sharing its card are ordinary, and so
    # are two organisations each paying with its own.
    across = x["cross_org_payment_share"] >= 0.3
    if x["account_count"] >= 3 and across and x["single_org"] < 1:
        accounts = round(x["cross_org_payment_share"] * x["account_count"])
        instruments = int(x["instruments"])
        noun = "instrument" if instruments == 1 else "instruments"
        return Evidence(
            "shared_payment",
            3.0,
            f"{accounts} of its {int(x['account_count'])} accounts share {instruments} "
            f"payment {noun} across organisations",
        )
    return None


def shares_infrastructure(x: Row) -> bool:
    """Whether its accounts share what independent customers do not: payment
    instruments, networks (fewer IP prefixes than half its accounts) or a sign-up wave."""
    return (
        x["cross_org_payment_share"] >= 0.3
        or (x["ip_prefixes"] >= 1 and x["ip_prefixes_per_account"] <= 0.5)
        or x["signup_burst_share"] >= 0.5
    )


def fan_out(x: Row) -> Evidence | None:
    # Many accounts of different organisations on shared infrastructure: what a
    # reseller or a hydra network looks like, and rare for honest customers. A
    # scaffold alone is not infrastructure: a framework's users share its prompt.
    independent = x["single_org"] < 1 and x["org_count"] >= 0.5 * x["account_count"]
    if x["account_count"] >= 10 and independent and shares_infrastructure(x):
        weight = 1.0 + min(2.0, 0.6 * (x["log_accounts"] - 2.3))
        prefixes = int(x["ip_prefixes"])
        return Evidence(
            "fan_out",
            weight,
            f"{int(x['account_count'])} accounts of {int(x['org_count'])} organisations "
            f"share infrastructure ({prefixes} IP prefixes)",
        )
    return None


def template_reuse(x: Row) -> Evidence | None:
    top = max(x["top_system_share"], x["top_tools_share"], x["top_template_share"])
    if x["account_count"] >= 5 and top >= 0.5 and x["top_capability_share"] >= 0.5:
        what = (
            "system prompt"
            if top == x["top_system_share"]
            else "tool schema"
            if top == x["top_tools_share"]
            else "prompt template"
        )
        return Evidence(
            "template_reuse",
            1.5,
            f"one {what} carries {_pct(top)} of the traffic of {int(x['account_count'])} accounts",
        )
    return None


def shared_templates(x: Row) -> Evidence | None:
    # Independent customers of one framework share its system prompt, not the
    # templates of their requests; a campaign's accounts run the same task templates.
    share = x["template_accounts_share"]
    if share >= 0.5 and x["account_count"] >= 5:
        users = round(share * x["account_count"])
        return Evidence(
            "shared_templates",
            2.0,
            f"{users} of its {int(x['account_count'])} accounts repeat the same prompt "
            "template under the same system prompt",
        )
    return None


def reasoning_extraction(x: Row) -> Evidence | None:
    parts = {
        "asks for reasoning written out": x["share_cot_elicitation"],
        "uses the model to grade answers": x["share_rubric_grading"],
        "asks for sensitive questions rewritten": x["share_rewrite"],
    }
    total = sum(parts.values())
    if total >= 0.2:
        what, share = max(parts.items(), key=lambda item: item[1])
        return Evidence(
            "reasoning_extraction",
            2.5,
            f"{_pct(total)} of traffic extracts reasoning or judgement ({_pct(share)} {what})",
        )
    return None


def lockstep(x: Row) -> Evidence | None:
    if x["lockstep"] >= 0.5 and x["account_count"] >= 5:
        return Evidence(
            "lockstep",
            2.0,
            f"per-minute volume of its accounts moves in lockstep (r = {x['lockstep']:.2f})",
        )
    return None


def capability_concentration(x: Row) -> Evidence | None:
    if x["capability_divergence"] >= 0.35 and x["account_count"] >= 5:
        return Evidence(
            "capability_concentration",
            1.0,
            f"its capability mix is {_pct(x['capability_divergence'])} away from all traffic's",
        )
    return None


def model_pivot(x: Row) -> Evidence | None:
    if x["new_model_share"] >= 0.25 and x["account_count"] >= 10 and x["single_org"] < 1:
        return Evidence(
            "model_pivot",
            1.0,
            f"{_pct(x['new_model_share'])} of its traffic went to a newly released model",
        )
    return None


def signup_burst(x: Row) -> Evidence | None:
    if (
        x["signup_burst_share"] >= 0.5
        and x["abused_program_share"] >= 0.5
        and x["account_count"] >= 5
    ):
        return Evidence(
            "signup_burst",
            0.5,  # cohorts burst too; on its own it says little
            f"{_pct(x['signup_burst_share'])} of its accounts signed up the same day, "
            f"{_pct(x['abused_program_share'])} through edu/startup/research programmes",
        )
    return None


def _few(x: Row) -> int:
    """How many accounts make a pattern mean something: five in general, three on
    cards that pay for several organisations (already what organisations do not do;
    a farm starts with a few accounts and adds more as they are banned)."""
    return 3 if x["cross_org_payment_share"] >= 0.3 and x["single_org"] < 1 else 5


def round_the_clock(x: Row) -> Evidence | None:
    # The shape of a day needs a day of traffic before it means anything.
    if x["span_hours"] >= 24 and x["hour_flatness"] >= 0.97 and x["account_count"] >= _few(x):
        return Evidence("round_the_clock", 1.0, "traffic runs flat round the clock")
    return None


def low_cache(x: Row) -> Evidence | None:
    # Rotating accounts and fresh task variants defeat the prompt cache.
    if x["cache_reuse"] < 0.12 and x["account_count"] >= _few(x):
        return Evidence(
            "low_cache", 1.0, f"only {_pct(x['cache_reuse'])} of input tokens come from the cache"
        )
    return None


def even_volume(x: Row) -> Evidence | None:
    # Hydra accounts are kept under rate limits at a similar rate; honest accounts
    # are heavy-tailed.
    rate = math.exp(x["log_records_per_account"]) / max(1.0, x["span_hours"])
    if x["volume_spread"] < 0.6 and x["account_count"] >= 10 and rate >= 0.5:
        return Evidence("even_volume", 1.0, "its accounts run at near-identical rates")
    return None


def independent_users(x: Row) -> Evidence | None:
    # What a framework's or a product's user base looks like, sharing a scaffold and
    # nothing else: each account pays on its own, from its own network, and keeps its
    # own human day. A campaign would have to fake all of these at once, account by
    # account, and is then left to be told by what it asks for. Volumes are not
    # required to be heavy-tailed: over a user base's first day they are not yet.
    # Independence is a finding, not a default: where neither cards nor networks
    # are known (a gateway's end users have none of their own) it says nothing.
    if (
        x["account_count"] >= 5
        and x["instruments"] >= 1
        and x["ip_prefixes"] >= 1
        and not shares_infrastructure(x)
        and x["accounts_per_instrument"] <= 1.2
        and x["hour_flatness"] < 0.85
    ):
        return Evidence(
            "independent_users",
            -2.5,
            "its accounts look independent: each pays on its own, from its own network, "
            "on its own day rhythm",
        )
    return None


def one_organisation(x: Row) -> Evidence | None:
    if x["single_org"] >= 1 and x["instruments"] <= 1:
        return Evidence("one_organisation", -3.0, "one organisation and one payment method")
    return None


def exact_repeats(x: Row) -> Evidence | None:
    if x["duplicate_share"] >= 0.5:
        return Evidence(
            "exact_repeats",
            -1.5,
            f"{_pct(x['duplicate_share'])} of prompts are exact repeats (a fixed evaluation set)",
        )
    return None


def cache_heavy(x: Row) -> Evidence | None:
    if x["cache_reuse"] >= 0.5:
        return Evidence("cache_heavy", -1.0, f"{_pct(x['cache_reuse'])} cache reuse")
    return None


def night_shift(x: Row) -> Evidence | None:
    # Accounts that sign up from one country and work through its night live
    # elsewhere, or are machines: a farm's operator claims whatever countries pass
    # sign-up but keeps the hours of its own timezone. Judged account by account.
    night = round(x["night_accounts_share"] * x["account_count"])
    if night >= 3 and x["night_accounts_share"] >= 0.3:
        return Evidence(
            "night_shift",
            1.0,
            f"{night} of its {int(x['account_count'])} accounts send most of their traffic "
            "in the dead of night where they signed up",
        )
    return None


def human_rhythm(x: Row) -> Evidence | None:
    # A working day explains away what a class or a team shares, not cards that pay
    # for several organisations (operators keep office hours too), nor a working
    # day kept in the night of the countries its accounts claim.
    if (
        x["span_hours"] >= 24
        and x["hour_flatness"] < 0.85
        and x["cross_org_payment_share"] < 0.3
        and x["night_accounts_share"] < 0.3
    ):
        return Evidence("human_rhythm", -1.0, "traffic follows a working-day rhythm")
    return None


def low_rate(x: Row) -> Evidence | None:
    # Campaign accounts work steadily; students, hobbyists and most honest accounts
    # send a request now and then. Judged per account and hour of the cluster's life.
    # It explains away what a class or a cohort shares (a campus network, a sign-up
    # wave, a tutorial's prompts), not cards that pay for several organisations:
    # a campaign can always spread itself thinner over more accounts.
    rate = math.exp(x["log_records_per_account"]) / max(1.0, x["span_hours"])
    if x["span_hours"] >= 6 and rate < 0.5 and x["cross_org_payment_share"] < 0.3:
        weight = -2.5 if rate < 0.3 else -1.5
        return Evidence(
            "low_rate", weight, f"each account sends {_rate(rate)} requests an hour on average"
        )
    return None


STRONG = ("shared_payment", "reasoning_extraction", "lockstep")


def too_young(x: Row, found: list[Evidence]) -> Evidence | None:
    # In its first day a cluster's rhythm and rate say nothing yet, and a cohort's
    # first session looks like a campaign's first hours: wait for a day unless a
    # strong signature speaks already.
    if x["span_hours"] < 24 and not any(e.name in STRONG for e in found):
        return Evidence("too_young", -3.0, "younger than a day")
    return None


# Signs that honest groups of accounts do not show: shared billing across
# organisations, reasoning extraction, lockstep, machine timing, cache evasion.
DECISIVE = ("shared_payment", "reasoning_extraction", "lockstep", "round_the_clock", "low_cache")


def nothing_decisive(found: list[Evidence]) -> Evidence | None:
    # Many accounts acting alike is also a class, a team or a framework's users:
    # without one decisive sign it does not make a case on its own.
    if any(e.weight > 0 for e in found) and not any(e.name in DECISIVE for e in found):
        return Evidence("nothing_decisive", -2.0, "no sign of evasion or extraction")
    return None


RULES: tuple[Rule, ...] = (
    shared_payment,
    fan_out,
    template_reuse,
    shared_templates,
    reasoning_extraction,
    lockstep,
    capability_concentration,
    model_pivot,
    signup_burst,
    round_the_clock,
    low_cache,
    night_shift,
    even_volume,
    independent_users,
    one_organisation,
    exact_repeats,
    cache_heavy,
    human_rhythm,
    low_rate,
)


# Signs that no declared organisation explains: an organisation is a claim, and a
# claim is not an exemption.
UNEXPLAINED = ("reasoning_extraction", "lockstep", "round_the_clock")


def evaluate(row: Row) -> list[Evidence]:
    """Every signature that fires on one cluster's features, strongest first."""
    found = [evidence for rule in RULES if (evidence := rule(row)) is not None]
    if any(e.name in UNEXPLAINED for e in found):
        # One organisation on one card runs its own traffic as it likes, but does not
        # extract reasoning, drive its accounts in lockstep or keep them busy round
        # the clock: whoever declares one while doing so gets no credit for it.
        found = [e for e in found if e.name != "one_organisation"]
    for extra in (too_young(row, found), nothing_decisive(found)):
        if extra is not None:
            found.append(extra)
    return sorted(found, key=lambda e: -abs(e.weight))
