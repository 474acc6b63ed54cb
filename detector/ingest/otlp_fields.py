"""Fields of a model-call span read the same way whatever the convention: token
counts, reasoning, tools, flattened messages. Pure functions over a span's merged
attributes (``otlp_genai.span_record`` builds them); the names are in ``conventions``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from typing import Any

from detector.ingest import conventions as c
from detector.ingest.mapped import as_count, include_cached_input
from detector.ingest.messages import tool_calls_of, tool_names_of, unique

_LITERAL_CHARS = 65_536
_USAGE_DETAILS = (
    ("reasoning_output_tokens", re.compile(r"'reasoning_tokens': (\d{1,15})\b")),
    ("cache_read_input_tokens", re.compile(r"'cached_tokens': (\d{1,15})\b")),
)


def set_first(
    record: dict[str, Any], field: str, attrs: dict[str, Any], names: Sequence[str]
) -> None:
    """Set ``field`` from the first of ``names`` present, unless the record has it."""
    if field not in record:
        value = c.first_value(attrs, names)
        if value is not None:
            record[field] = value


def tokens(record: dict[str, Any], attrs: dict[str, Any]) -> None:
    for field_name, names in (
        ("input_tokens", c.INPUT),
        ("output_tokens", c.OUTPUT),
        ("reasoning_output_tokens", c.REASONING_TOKENS),
        ("cache_read_input_tokens", c.CACHE_READ),
    ):
        set_first(record, field_name, attrs, names)
        if field_name in record:
            record[field_name] = as_count(record[field_name])
    # LiteLLM's raw request span writes the provider's usage as a Python repr.
    usage = attrs.get("llm.openai.usage")
    if isinstance(usage, str) and len(usage) < 4096:
        for field_name, pattern in _USAGE_DETAILS:
            found = pattern.search(usage)
            if found and field_name not in record:
                record[field_name] = as_count(found.group(1))
    include_cached_input(record)


def reasoning(record: dict[str, Any], attrs: dict[str, Any], params: dict[str, Any]) -> None:
    if "reasoning_mode" in record:
        return
    mode = c.reasoning_mode(c.first_value(attrs, c.REASONING_EFFORT))
    mode = mode or c.reasoning_mode(params.get("reasoning_effort") or params.get("reasoning"))
    mode = mode or c.reasoning_mode(attrs.get("anthropic.thinking.type"))
    if mode is not None:
        record["reasoning_mode"] = mode


def python_literal(value: Any) -> Any:
    """A list or dict LiteLLM wrote as a Python repr (``llm.openai.tools``), else ``value``.

    ``ast.literal_eval`` builds literals only; the size bound keeps a hostile value
    from costing more than any real tool list.
    """
    if isinstance(value, str) and value[:1] in "[{" and len(value) <= _LITERAL_CHARS:
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return value
    return value


def tools(record: dict[str, Any], attrs: dict[str, Any]) -> None:
    offered = tool_names_of(c.first_value(attrs, c.TOOLS))
    offered = offered or tool_names_of(python_literal(attrs.get("llm.openai.tools")))
    offered = offered or tool_names_of(c.indexed(attrs, "llm.tools", ".tool.json_schema"))
    offered = offered or tool_names_of(
        [{"name": n} for n in c.indexed(attrs, "llm.request.functions", ".name")]
    )
    if offered:
        record.setdefault("tool_names", offered)
    called = tool_calls_of(c.first_value(attrs, c.OUTPUT_MESSAGES))
    called = called or unique(
        str(value)
        for name, value in sorted(attrs.items())
        if name.startswith("llm.output_messages.")
        and name.endswith(".tool_call.function.name")
        and value
    )
    # OpenLLMetry's and LiteLLM's flattened gen_ai.completion.<i>.…
    called = called or unique(
        str(value)
        for name, value in sorted(attrs.items())
        if value
        and name.startswith("gen_ai.completion.")
        and (
            name.endswith(".function_call.name")
            or (".tool_calls." in name and name.endswith(".name"))
        )
    )
    if called:
        record.setdefault("response_tool_call_names", called)


def indexed_messages(attrs: dict[str, Any], prefix: str, inner: str) -> list[dict[str, Any]]:
    """Messages from flattened ``<prefix>.<i><inner>.role``/``.content`` attributes
    (OpenLLMetry's ``gen_ai.prompt.<i>``, OpenInference's ``llm.input_messages.<i>.message``)."""
    roles = c.indexed(attrs, prefix, f"{inner}.role")
    contents = c.indexed(attrs, prefix, f"{inner}.content")
    count = max(len(roles), len(contents))
    return [
        {
            "role": roles[i] if i < len(roles) else "user",
            "content": contents[i] if i < len(contents) else "",
        }
        for i in range(count)
    ]
