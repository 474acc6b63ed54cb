"""Every signature's threshold edges: a rule that fires just over its limit and not
just under it, so that no limit can change without a test failing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from detector.features.capability import CAPABILITIES
from detector.scoring import signatures as sig
from detector.scoring.cluster_features import FEATURE_NAMES
from detector.scoring.signatures import Evidence, Row


def neutral(**changes: float) -> dict[str, float]:
    """A cluster of 20 accounts that no rule fires on, with ``changes`` applied."""
    x = {name: 0.0 for name in FEATURE_NAMES}
    x.update(
        account_count=20.0,
        instruments=20.0,
        ip_prefixes=20.0,
        log_accounts=2.996,
        log_records_per_account=4.0,  # ~55 records over 72 hours: under 1 an hour
        accounts_per_instrument=1.0,
        org_count=20.0,
        ip_prefixes_per_account=1.0,
        hour_flatness=0.9,
        cache_reuse=0.3,
        volume_spread=0.8,
        span_hours=72.0,
        lockstep=0.0,
        share_chat=1.0,
    )
    x.update(changes)
    assert {f"share_{c}" for c in CAPABILITIES} <= set(x)
    return x


Case = tuple[Callable[[Row], Evidence | None], dict[str, float], bool]

EDGES: dict[str, Case] = {
    "shared_payment-cards-within-organisations": (
        sig.shared_payment,
        {"accounts_per_instrument": 10.0, "shared_payment_share": 1.0},
        False,
    ),
    "shared_payment-card-across-orgs": (
        sig.shared_payment,
        {"accounts_per_instrument": 1.5, "cross_org_payment_share": 0.3},
        True,
    ),
    "shared_payment-few-cards-across-orgs": (
        sig.shared_payment,
        {"accounts_per_instrument": 1.5, "cross_org_payment_share": 0.29},
        False,
    ),
    "shared_payment-one-org": (
        sig.shared_payment,
        {"cross_org_payment_share": 1.0, "single_org": 1.0},
        False,
    ),
    "fan_out-shared-card": (sig.fan_out, {"cross_org_payment_share": 0.3}, True),
    "fan_out-card-below-share": (sig.fan_out, {"cross_org_payment_share": 0.29}, False),
    "fan_out-unknown-networks": (
        sig.fan_out,
        {"ip_prefixes": 0.0, "ip_prefixes_per_account": 0.0},
        False,
    ),
    "fan_out-half-the-prefixes": (sig.fan_out, {"ip_prefixes_per_account": 0.5}, True),
    "fan_out-own-networks-only": (sig.fan_out, {"ip_prefixes_per_account": 0.51}, False),
    "fan_out-signup-wave": (sig.fan_out, {"signup_burst_share": 0.5}, True),
    "fan_out-9-accounts": (
        sig.fan_out,
        {"cross_org_payment_share": 1.0, "account_count": 9.0, "org_count": 9.0},
        False,
    ),
    "fan_out-few-orgs": (sig.fan_out, {"cross_org_payment_share": 1.0, "org_count": 9.0}, False),
    "template_reuse-half": (
        sig.template_reuse,
        {"top_system_share": 0.5, "top_capability_share": 0.5},
        True,
    ),
    "template_reuse-under-half": (
        sig.template_reuse,
        {"top_system_share": 0.49, "top_capability_share": 0.5},
        False,
    ),
    "template_reuse-broad-mix": (
        sig.template_reuse,
        {"top_template_share": 0.9, "top_capability_share": 0.49},
        False,
    ),
    "shared_templates-half": (sig.shared_templates, {"template_accounts_share": 0.5}, True),
    "shared_templates-under-half": (
        sig.shared_templates,
        {"template_accounts_share": 0.49},
        False,
    ),
    "reasoning_extraction-a-fifth": (
        sig.reasoning_extraction,
        {"share_cot_elicitation": 0.1, "share_rubric_grading": 0.1},
        True,
    ),
    "reasoning_extraction-under-a-fifth": (
        sig.reasoning_extraction,
        {"share_cot_elicitation": 0.1, "share_rewrite": 0.09},
        False,
    ),
    "lockstep-0.5": (sig.lockstep, {"lockstep": 0.5}, True),
    "lockstep-0.49": (sig.lockstep, {"lockstep": 0.49}, False),
    "lockstep-4-accounts": (sig.lockstep, {"lockstep": 0.9, "account_count": 4.0}, False),
    "capability_concentration-0.35": (
        sig.capability_concentration,
        {"capability_divergence": 0.35},
        True,
    ),
    "capability_concentration-0.34": (
        sig.capability_concentration,
        {"capability_divergence": 0.34},
        False,
    ),
    "model_pivot-quarter": (sig.model_pivot, {"new_model_share": 0.25}, True),
    "model_pivot-under-quarter": (sig.model_pivot, {"new_model_share": 0.24}, False),
    "model_pivot-one-org": (
        sig.model_pivot,
        {"new_model_share": 0.9, "single_org": 1.0},
        False,
    ),
    "signup_burst-half-abused": (
        sig.signup_burst,
        {"signup_burst_share": 0.5, "abused_program_share": 0.5},
        True,
    ),
    "signup_burst-standard-programme": (
        sig.signup_burst,
        {"signup_burst_share": 1.0, "abused_program_share": 0.49},
        False,
    ),
    "round_the_clock-0.97": (sig.round_the_clock, {"hour_flatness": 0.97}, True),
    "round_the_clock-0.96": (sig.round_the_clock, {"hour_flatness": 0.96}, False),
    "round_the_clock-under-a-day": (
        sig.round_the_clock,
        {"hour_flatness": 1.0, "span_hours": 23.0},
        False,
    ),
    "round_the_clock-4-accounts": (
        sig.round_the_clock,
        {"hour_flatness": 1.0, "account_count": 4.0},
        False,
    ),
    "round_the_clock-3-accounts-on-cards-across-orgs": (
        sig.round_the_clock,
        {"hour_flatness": 1.0, "account_count": 3.0, "cross_org_payment_share": 0.3},
        True,
    ),
    "round_the_clock-2-accounts-on-cards-across-orgs": (
        sig.round_the_clock,
        {"hour_flatness": 1.0, "account_count": 2.0, "cross_org_payment_share": 1.0},
        False,
    ),
    "low_cache-0.11": (sig.low_cache, {"cache_reuse": 0.11}, True),
    "low_cache-0.12": (sig.low_cache, {"cache_reuse": 0.12}, False),
    "low_cache-4-accounts": (sig.low_cache, {"cache_reuse": 0.0, "account_count": 4.0}, False),
    "low_cache-3-accounts-on-cards-across-orgs": (
        sig.low_cache,
        {"cache_reuse": 0.0, "account_count": 3.0, "cross_org_payment_share": 0.3},
        True,
    ),
    "low_cache-3-accounts-one-org": (
        sig.low_cache,
        {
            "cache_reuse": 0.0,
            "account_count": 3.0,
            "cross_org_payment_share": 1.0,
            "single_org": 1.0,
        },
        False,
    ),
    "night_shift-3-accounts-30%": (
        sig.night_shift,
        {"account_count": 10.0, "night_accounts_share": 0.3},
        True,
    ),
    "night_shift-2-accounts": (
        sig.night_shift,
        {"account_count": 2.0, "night_accounts_share": 1.0},
        False,
    ),
    "night_shift-29%": (
        sig.night_shift,
        {"night_accounts_share": 0.29},
        False,
    ),
    "even_volume-0.59": (
        sig.even_volume,
        {"volume_spread": 0.59, "log_records_per_account": 4.5},
        True,
    ),
    "even_volume-0.6": (
        sig.even_volume,
        {"volume_spread": 0.6, "log_records_per_account": 4.5},
        False,
    ),
    "even_volume-slow-accounts": (
        sig.even_volume,
        {"volume_spread": 0.1, "log_records_per_account": 3.0},
        False,
    ),
    "independent_users-all-signs": (sig.independent_users, {"hour_flatness": 0.84}, True),
    "independent_users-flat-day": (sig.independent_users, {"hour_flatness": 0.85}, False),
    "independent_users-even-volume": (
        sig.independent_users,
        {"hour_flatness": 0.8, "volume_spread": 0.1},
        True,
    ),
    "independent_users-shared-cards": (
        sig.independent_users,
        {"hour_flatness": 0.8, "volume_spread": 1.5, "accounts_per_instrument": 1.3},
        False,
    ),
    "independent_users-shared-networks": (
        sig.independent_users,
        {"hour_flatness": 0.8, "volume_spread": 1.5, "ip_prefixes_per_account": 0.5},
        False,
    ),
    "independent_users-nothing-known-of-cards": (
        sig.independent_users,
        {"hour_flatness": 0.8, "instruments": 0.0, "accounts_per_instrument": 0.0},
        False,
    ),
    "independent_users-nothing-known-of-networks": (
        sig.independent_users,
        {"hour_flatness": 0.8, "ip_prefixes": 0.0},
        False,
    ),
    "one_organisation": (sig.one_organisation, {"single_org": 1.0, "instruments": 1.0}, True),
    "one_organisation-two-cards": (
        sig.one_organisation,
        {"single_org": 1.0, "instruments": 2.0},
        False,
    ),
    "exact_repeats-half": (sig.exact_repeats, {"duplicate_share": 0.5}, True),
    "exact_repeats-under-half": (sig.exact_repeats, {"duplicate_share": 0.49}, False),
    "cache_heavy-half": (sig.cache_heavy, {"cache_reuse": 0.5}, True),
    "cache_heavy-under-half": (sig.cache_heavy, {"cache_reuse": 0.49}, False),
    "human_rhythm-0.84": (sig.human_rhythm, {"hour_flatness": 0.84}, True),
    "human_rhythm-0.85": (sig.human_rhythm, {"hour_flatness": 0.85}, False),
    "human_rhythm-cards-across-orgs": (
        sig.human_rhythm,
        {"hour_flatness": 0.5, "cross_org_payment_share": 0.3},
        False,
    ),
    "human_rhythm-night-where-they-signed-up": (
        sig.human_rhythm,
        {"hour_flatness": 0.5, "night_accounts_share": 0.3},
        False,
    ),
    "low_rate-0.49-an-hour": (sig.low_rate, {"log_records_per_account": 3.56}, True),
    "low_rate-0.5-an-hour": (sig.low_rate, {"log_records_per_account": 3.59}, False),
    "low_rate-cards-across-orgs": (
        sig.low_rate,
        {"log_records_per_account": 3.0, "cross_org_payment_share": 0.3},
        False,
    ),
}


@pytest.mark.parametrize(("rule", "changes", "fires"), list(EDGES.values()), ids=list(EDGES))
def test_threshold_edge(
    rule: Callable[[Row], Evidence | None], changes: dict[str, float], fires: bool
) -> None:
    found = rule(neutral(**changes))
    assert (found is not None) == fires, found
    if found is not None:
        assert found.reason and found.name == rule.__name__


@pytest.mark.parametrize("rule", sig.RULES, ids=[rule.__name__ for rule in sig.RULES])
def test_no_rule_fires_on_the_neutral_cluster(rule: Callable[[Row], Evidence | None]) -> None:
    assert rule(neutral()) is None


def test_every_rule_has_an_edge() -> None:
    tested = {case[0].__name__ for case in EDGES.values()}
    assert tested == {rule.__name__ for rule in sig.RULES}


def test_a_young_cluster_without_a_strong_sign_waits() -> None:
    x = neutral(span_hours=23.0, top_system_share=0.9, top_capability_share=0.9)
    names = [e.name for e in sig.evaluate(x)]
    assert "too_young" in names and "nothing_decisive" in names
    strong = sig.evaluate(neutral(span_hours=23.0, lockstep=0.9))
    assert "too_young" not in [e.name for e in strong]
