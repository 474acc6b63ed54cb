"""GenAI spans (OpenTelemetry semantic conventions) to canonical records.

Every span with ``gen_ai.operation.name`` is one model call, except ``execute_tool``
spans: those are folded into the nearest GenAI ancestor in the same request, whose
``response_tool_call_names`` they extend. The attribute-to-field mapping, with the
deprecated names still sent by older instrumentations, is in docs/ingest-formats.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from detector.ingest.decode import ItemError
from detector.ingest.mapped import (
    ATTRIBUTE_CHARS,
    MALFORMED,
    MapContext,
    MapError,
    Mapped,
    add_transcript,
    as_count,
    include_cached_input,
    is_ip,
    malformed,
)
from detector.ingest.messages import read_input, tool_calls_of, tool_names_of, unique
from detector.ingest.otlp import SpanView
from detector.schema import Record

OPERATION = "gen_ai.operation.name"
EXECUTE_TOOL = "execute_tool"
# ``detector.<field>`` on a span (or its resource) sets that record field directly.
PREFIX = "detector."
_FIELDS = frozenset(Record.__struct_fields__)

# Field -> attribute names, the current convention first, then deprecated names.
_ACCOUNT = ("enduser.id", "user.id", "gen_ai.request.user")
_MODEL = ("gen_ai.request.model", "gen_ai.response.model")
_PROVIDER = ("gen_ai.provider.name", "gen_ai.system")
_INPUT = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
_OUTPUT = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
_REASONING = ("gen_ai.usage.reasoning.output_tokens",)
_CACHE_READ = ("gen_ai.usage.cache_read.input_tokens",)
_INPUT_MESSAGES = ("gen_ai.input.messages", "gen_ai.prompt")
_OUTPUT_MESSAGES = ("gen_ai.output.messages", "gen_ai.completion")
_KEPT = (
    "service.name",
    "gen_ai.conversation.id",
    "gen_ai.agent.name",
    "gen_ai.response.id",
    "server.address",
)


def map_spans(spans: Sequence[SpanView], ctx: MapContext) -> tuple[Mapped, int]:
    """Records for the GenAI spans; also the number of tool spans without a GenAI ancestor.

    Spans without ``gen_ai.operation.name`` are not model calls and are skipped.
    """
    mapped = Mapped()
    by_id: dict[tuple[str, str], int] = {}
    for index, span in enumerate(spans):
        operation = span.attributes.get(OPERATION)
        if operation is None or operation == EXECUTE_TOOL:
            continue
        try:
            record = span_record(span, ctx)
        except MapError as exc:
            mapped.errors.append(ItemError(index, exc.field, str(exc)))
            continue
        except MALFORMED as exc:
            mapped.errors.append(malformed(index, "span", exc))
            continue
        by_id[(span.trace_id, span.span_id)] = len(mapped.records)
        mapped.add(index, record)
    orphans = _fold_tools(spans, mapped, by_id)
    return mapped, orphans


def _fold_tools(
    spans: Sequence[SpanView], mapped: Mapped, by_id: dict[tuple[str, str], int]
) -> int:
    parent_of = {(s.trace_id, s.span_id): s.parent_span_id for s in spans}
    orphans = 0
    for span in spans:
        if span.attributes.get(OPERATION) != EXECUTE_TOOL:
            continue
        name = span.attributes.get("gen_ai.tool.name") or span.name.removeprefix("execute_tool ")
        ancestor = span.parent_span_id
        seen = 0
        # Climb through non-GenAI spans (framework wrappers); bounded against id cycles.
        while ancestor and (span.trace_id, ancestor) not in by_id and seen < len(spans):
            ancestor = parent_of.get((span.trace_id, ancestor), "")
            seen += 1
        target = by_id.get((span.trace_id, ancestor))
        if target is None:
            orphans += 1
            continue
        record = mapped.records[target]
        record["response_tool_call_names"] = unique(
            [*record.get("response_tool_call_names", []), str(name)]
        )
    return orphans


def span_record(span: SpanView, ctx: MapContext) -> dict[str, Any]:
    """The canonical record (as a dict) of one GenAI span."""
    attrs = {**span.resource, **span.events, **span.attributes}
    record: dict[str, Any] = {
        name.removeprefix(PREFIX): value
        for name, value in attrs.items()
        if name.startswith(PREFIX) and name.removeprefix(PREFIX) in _FIELDS
    }
    record.setdefault("event_id", f"otlp-{span.trace_id}-{span.span_id}")
    if not span.start_ns:
        raise MapError("ts_start", "ts_start: the span has no startTimeUnixNano")
    record.setdefault("ts_start", span.start_ns / 1e9)
    if span.end_ns:
        record.setdefault("ts_end", span.end_ns / 1e9)
    _first(record, "account_id", attrs, _ACCOUNT)
    if "account_id" not in record:
        raise MapError(
            "account_id",
            "account_id: required; set span or resource attribute "
            f"detector.account_id (or one of {', '.join(_ACCOUNT)})",
        )
    _first(record, "request_model", attrs, _MODEL)
    if "request_model" not in record:
        raise MapError(
            "request_model", f"request_model: required; set {' or '.join(_MODEL)} on the span"
        )
    record.setdefault("operation", attrs[OPERATION])
    _first(record, "provider", attrs, _PROVIDER)
    _first(record, "end_user_id", attrs, ("enduser.pseudo.id",))
    _first(record, "user_agent", attrs, ("user_agent.original",))
    _first(record, "http_status", attrs, ("http.response.status_code",))
    _first(record, "stream", attrs, ("gen_ai.request.stream",))
    # client.address may be a host name (semantic conventions); only an address maps.
    if "client_ip" not in record and is_ip(attrs.get("client.address")):
        record["client_ip"] = attrs["client.address"]
    _tokens(record, attrs)
    if span.error or "error.type" in attrs:
        record.setdefault("status", "error")
    reasons = attrs.get("gen_ai.response.finish_reasons")
    if isinstance(reasons, list) and reasons:
        record.setdefault("finish_reason", str(reasons[0]))
    elif isinstance(reasons, str):
        record.setdefault("finish_reason", reasons)
    tools = tool_names_of(attrs.get("gen_ai.tool.definitions"))
    if tools:
        record.setdefault("tool_names", tools)
    calls = tool_calls_of(_first_value(attrs, _OUTPUT_MESSAGES))
    if calls:
        record.setdefault("response_tool_call_names", calls)
    messages = _first_value(attrs, _INPUT_MESSAGES) or _indexed_prompt(attrs)
    add_transcript(record, read_input(messages, attrs.get("gen_ai.system_instructions")), ctx)
    record.setdefault("attributes", _kept(attrs, span, record))
    return record


def _first(record: dict[str, Any], field: str, attrs: dict[str, Any], names: Sequence[str]) -> None:
    if field not in record:
        value = _first_value(attrs, names)
        if value is not None:
            record[field] = value


def _first_value(attrs: dict[str, Any], names: Sequence[str]) -> Any:
    for name in names:
        value = attrs.get(name)
        if value is not None and value != "":
            return value
    return None


def _tokens(record: dict[str, Any], attrs: dict[str, Any]) -> None:
    for field, names in (
        ("input_tokens", _INPUT),
        ("output_tokens", _OUTPUT),
        ("reasoning_output_tokens", _REASONING),
        ("cache_read_input_tokens", _CACHE_READ),
    ):
        _first(record, field, attrs, names)
        if field in record:
            record[field] = _count(record[field])
    include_cached_input(record)


def _count(value: Any) -> Any:
    """Integral floats and ASCII digit strings as ints; anything else (``"²"``, which
    ``isdigit`` accepts, or a count past int64) is left for validation to name."""
    return as_count(value)


def _indexed_prompt(attrs: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Messages from the flattened ``gen_ai.prompt.<i>.role``/``.content`` attributes."""
    messages = []
    index = 0
    while f"gen_ai.prompt.{index}.content" in attrs or f"gen_ai.prompt.{index}.role" in attrs:
        messages.append(
            {
                "role": attrs.get(f"gen_ai.prompt.{index}.role", "user"),
                "content": attrs.get(f"gen_ai.prompt.{index}.content", ""),
            }
        )
        index += 1
    return messages or None


def _kept(attrs: dict[str, Any], span: SpanView, record: dict[str, Any]) -> dict[str, str]:
    kept = {"otel.trace_id": span.trace_id, "otel.span_id": span.span_id}
    for name in _KEPT:
        value = attrs.get(name)
        if value is not None:
            kept[name] = str(value)[:ATTRIBUTE_CHARS]
    if "client.address" in attrs and "client_ip" not in record:
        kept["client.address"] = str(attrs["client.address"])[:ATTRIBUTE_CHARS]
    return kept
