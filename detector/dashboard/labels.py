"""Words a reviewer reads in place of the store's names (``tool_use``, ``in_review``,
``shared_payment``): one table per kind of name, used as Jinja filters."""

from __future__ import annotations

SIGNATURES = {
    "shared_payment": "Shared payment across organisations",
    "fan_out": "Many organisations on shared infrastructure",
    "template_reuse": "One prompt scaffold dominates",
    "shared_templates": "Same task templates across accounts",
    "reasoning_extraction": "Reasoning or judgement extraction",
    "lockstep": "Accounts move in lockstep",
    "capability_concentration": "Unusual capability mix",
    "model_pivot": "Pivot to a newly released model",
    "signup_burst": "Sign-up burst through discount programmes",
    "round_the_clock": "Flat round-the-clock traffic",
    "low_cache": "Prompt cache evaded",
    "even_volume": "Near-identical account rates",
    "independent_users": "Accounts look independent",
    "one_organisation": "One organisation, one payment method",
    "exact_repeats": "Fixed evaluation set",
    "cache_heavy": "Heavy prompt-cache use",
    "human_rhythm": "Working-day rhythm",
    "low_rate": "Low request rate per account",
    "too_young": "Younger than a day",
    "nothing_decisive": "No decisive sign",
    "anomaly": "Anomaly model",
    "feedback": "Reviewers' past decisions",
    "no_decisive_sign_cap": "Held under the threshold",
    "baseline": "Baseline",
}

CAPABILITIES = {
    "tool_use": "tool use",
    "coding": "coding",
    "reasoning": "reasoning",
    "cot_elicitation": "chain-of-thought elicitation",
    "rubric_grading": "rubric grading",
    "computer_use": "computer use",
    "vision": "vision",
    "rewrite": "rewriting",
    "chat": "chat",
}

STATUSES = {
    "open": "open",
    "in_review": "in review",
    "snoozed": "snoozed",
    "closed": "closed",
    "cleared": "cleared",
    "all": "all",
}

# What a reviewer did to a case, as the queue and the header say it.
OUTCOMES = {
    "block": "blocked",
    "accept": "accepted",
    "watch": "watched",
    "escalate": "escalated",
    "clear": "cleared",
}

ACTIONS = {
    "block": "block",
    "accept": "accept (benign)",
    "watch": "watch",
    "escalate": "escalate",
    "snooze": "snooze",
    "reopen": "reopen",
    "undo": "undo",
    "wake": "woke from snooze",
    "regressed": "came back after closing",
    "clear": "cleared by the pipeline",
    "reflagged": "flagged again",
    "assign": "assign",
    "unassign": "unassign",
}


def signature_label(name: str) -> str:
    return SIGNATURES.get(name, name.replace("_", " "))


def capability_label(name: str) -> str:
    return CAPABILITIES.get(name, name.replace("_", " "))


def status_label(name: str) -> str:
    return STATUSES.get(name, name.replace("_", " "))


def action_label(name: str) -> str:
    return ACTIONS.get(name, name.replace("_", " "))


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``1 case``, ``2 cases``, with the count's thousands separated."""
    return f"{count:,} {singular if count == 1 else (many or singular + 's')}"
