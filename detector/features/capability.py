"""Capabilities a record exercises, from structured fields first and prompt text second.

The text classifier is one transparent regular expression per flag, built from phrase
lists per language (``detector.features.text_flags``), so a reviewer can read why a
record counted as, say, chain-of-thought elicitation. It runs at ingest
(``content_flags_from_text``), because the prompt text is not kept unless configured.

>>> content_flags_from_text("Explain step by step the reasoning behind this answer: 42")
['cot_elicitation']
>>> content_flags_from_text("Grade the response below on a 1-10 rubric.")
['rubric_grading']
>>> content_flags_from_text("请按照评分标准给这个回答打分。")
['rubric_grading']
"""

from __future__ import annotations

import polars as pl

from detector.features.text_flags import flags_in

# The capability columns of every feature frame, in a fixed order.
CAPABILITIES: tuple[str, ...] = (
    "tool_use",
    "coding",
    "reasoning",
    "cot_elicitation",
    "rubric_grading",
    "computer_use",
    "vision",
    "rewrite",
    "chat",
)


def content_flags_from_text(text: str) -> list[str]:
    """The content flags the text classifier sets for one prompt, in rule order."""
    return flags_in(text)


def _has_flag(*flags: str) -> pl.Expr:
    """True when a record carries any of ``flags`` (senders name the same thing
    differently: ``data`` for data analysis, ``sensitive_rewrite`` for rewrites)."""
    found = pl.lit(False)
    for flag in flags:
        found = found | pl.col("content_flags").list.contains(flag).fill_null(False)
    return found


# The column of a record frame holding its tool schema key: the tool names joined
# with commas (``frames.tool_schema_keys``).
TOOL_KEY = "tools"


def _tool_matches(pattern: str) -> pl.Expr:
    # True when any offered tool's name matches, e.g. "computer_20250124" or "bash".
    # Matched on the joined key rather than name by name: a per-record list.eval was
    # more than half the cost of the narrow frame, and a pattern with no comma in it
    # matches the joined names exactly when it matches one of them.
    return pl.col(TOOL_KEY).str.contains(pattern).fill_null(False)


def capability_columns() -> list[pl.Expr]:
    """Boolean expressions, one per capability, over a record frame with its tool
    schema key in the ``TOOL_KEY`` column.

    ``chat`` is the rest: a record that matched nothing else. Computer use and vision
    come from tool names and image inputs; reasoning from the reasoning mode or
    reasoning tokens; the rest from content flags (sent, or set by the classifier).
    """
    tools = pl.col("tool_names").list.len().fill_null(0) > 0
    computer = _tool_matches(r"(?i)computer|browser|screen") | _has_flag("computer_use")
    coding = _has_flag("code", "coding", "data") | _tool_matches(r"(?i)bash|python|editor|code")
    reasoning = (
        (pl.col("reasoning_mode").fill_null("none") != "none")
        | (pl.col("reasoning_output_tokens").fill_null(0) > 0)
        | _has_flag("reasoning")
    )
    exprs = {
        "tool_use": tools | _has_flag("agentic", "tool_use"),
        "coding": coding,
        "reasoning": reasoning,
        "cot_elicitation": _has_flag("cot_elicitation"),
        "rubric_grading": _has_flag("rubric_grading"),
        "computer_use": computer,
        "vision": (pl.col("image_inputs").fill_null(0) > 0) | _has_flag("vision"),
        "rewrite": _has_flag("rewrite", "sensitive_rewrite"),
    }
    named = [expr.alias(f"cap_{name}") for name, expr in exprs.items()]
    anything = pl.any_horizontal(list(exprs.values()))
    return [*named, (~anything).alias("cap_chat")]
