"""GenAI spans (OpenTelemetry and the conventions around it) to canonical records.

A span is a model call when its operation (``gen_ai.operation.name``, OpenInference's
``openinference.span.kind``, or OpenLLMetry's ``llm.request.type``) names one; agent,
workflow and chain spans group calls and are never one. ``execute_tool`` spans are
folded into the nearest call above them in the same request, whose
``response_tool_call_names`` they extend. Spans of one call seen by two
instrumentations become one record (``otlp_tree``). Every span that becomes no record
is counted by reason (``Skipped``). Where each field comes from is in ``conventions``
and docs/ingest-formats.md.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from detector.ingest import conventions as c
from detector.ingest.decode import ItemError
from detector.ingest.identity import SOURCE, fallback_account, mark_fallback
from detector.ingest.mapped import (
    ATTRIBUTE_CHARS,
    MALFORMED,
    MapContext,
    MapError,
    Mapped,
    add_transcript,
    is_ip,
    malformed,
)
from detector.ingest.messages import read_input, unique
from detector.ingest.otlp import SpanView
from detector.ingest.otlp_fields import indexed_messages, reasoning, set_first, tokens, tools
from detector.ingest.otlp_tree import Key, ancestors, inherited, key_of, same_calls
from detector.schema import Record

# ``detector.<field>`` on a span (or its resource) sets that record field directly.
PREFIX = "detector."
_FIELDS = frozenset(Record.__struct_fields__)
_KEPT = (
    "service.name",
    "gen_ai.agent.name",
    "gen_ai.response.id",
    "server.address",
    "anthropic.organization.id",
)
# Looked up layer by layer (the span, its ancestors, its resource), like the account.
_IDENTITY = (
    ("org_id", c.ORGANISATION),
    ("end_user_id", c.END_USER),
    ("api_key_id", c.API_KEY),
    ("user_agent", c.USER_AGENT),
)
# Skipped-span reasons, as counted in /metrics and told in partialSuccess.
NOT_GENAI, GROUPING, SAME_CALL, ORPHAN_TOOL = "not_genai", "grouping", "same_call", "orphan_tool"


@dataclass(slots=True)
class SpanOutcome:
    """What became of the spans that are no record of their own, and of identity."""

    skipped: Counter[str] = field(default_factory=Counter)
    fallback: int = 0

    @property
    def orphan_tool_spans(self) -> int:
        return self.skipped[ORPHAN_TOOL]


def map_spans(spans: Sequence[SpanView], ctx: MapContext) -> tuple[Mapped, SpanOutcome]:
    """Records for the model-call spans, and the count of every other span by reason."""
    outcome = SpanOutcome()
    by_key = {key_of(span): span for span in spans}
    operations = [c.operation_of(span.attributes) for span in spans]
    calls: list[int] = []
    for index, operation in enumerate(operations):
        if operation is None:
            outcome.skipped[NOT_GENAI] += 1
        elif operation in c.GROUPING:
            outcome.skipped[GROUPING] += 1
        elif operation != c.TOOL:
            calls.append(index)

    # LiteLLM puts the provider request (reasoning effort, usage details) on a plain
    # child span of its call span: read as the call's lowest layer.
    below: dict[Key, dict[str, Any]] = {}
    for span, operation in zip(spans, operations, strict=True):
        if operation is None and span.parent_span_id:
            extra = {k: v for k, v in span.attributes.items() if k.startswith(c.RAW_REQUEST)}
            if extra:
                below.setdefault((span.trace_id, span.parent_span_id), {}).update(extra)
    drafts: dict[int, dict[str, Any]] = {}
    mapped = Mapped()
    for index in calls:
        span = spans[index]
        try:
            drafts[index] = span_record(
                span, ctx, operations[index], by_key, below.get(key_of(span), {})
            )
        except MapError as exc:
            mapped.errors.append(ItemError(index, exc.field, str(exc)))
        except MALFORMED as exc:
            mapped.errors.append(malformed(index, "span", exc))
    response_ids = {
        i: str(spans[i].attributes["gen_ai.response.id"])
        for i in drafts
        if spans[i].attributes.get("gen_ai.response.id")
    }
    record_at: dict[Key, int] = {}
    calls_of = [
        (min(m), m, _merge([drafts[i] for i in m]))
        for m in same_calls(spans, list(drafts), response_ids).values()
    ]
    # A conversation's caller, for its calls that name none (an agent's later turns).
    callers: dict[str, Any] = {}
    for _, _, record in calls_of:
        conversation = _conversation(record)
        if conversation and "account_id" in record:
            callers.setdefault(conversation, record["account_id"])
    for source, members, record in calls_of:
        outcome.skipped[SAME_CALL] += len(members) - 1
        conversation = _conversation(record)
        if "account_id" not in record and conversation in callers:
            record["account_id"] = callers[conversation]
            record["attributes"][SOURCE] = "conversation gen_ai.conversation.id"
        try:
            _settle_identity(record, spans[source], ctx, outcome)
        except MapError as exc:
            mapped.errors.append(ItemError(source, exc.field, str(exc)))
            continue
        for member in members:
            record_at[key_of(spans[member])] = len(mapped.records)
        mapped.add(source, record)
    mapped.errors.sort(key=lambda e: e.index)
    _fold_tools(spans, operations, mapped, record_at, by_key, outcome)
    return mapped, outcome


def _conversation(record: dict[str, Any]) -> str | None:
    attributes = record.get("attributes")
    found = attributes.get("gen_ai.conversation.id") if isinstance(attributes, dict) else None
    return found if isinstance(found, str) and found else None


def _merge(records: list[dict[str, Any]]) -> dict[str, Any]:
    """One record of a call's spans: the richest leads, the others fill in what it lacks."""
    ordered = sorted(records, key=lambda r: ("account_id" not in r, -len(r)))
    merged = dict(ordered[0])
    for other in ordered[1:]:
        for name, value in other.items():
            merged.setdefault(name, value)
        ours, theirs = merged.get("attributes"), other.get("attributes")
        # A sender's malformed detector.attributes is left as it is, for validation.
        if isinstance(ours, dict) and isinstance(theirs, dict):
            merged["attributes"] = {**theirs, **ours}
    return merged


def _settle_identity(
    record: dict[str, Any], span: SpanView, ctx: MapContext, outcome: SpanOutcome
) -> None:
    if "account_id" in record:
        return
    if not ctx.identity_fallback:
        raise MapError(
            "account_id",
            "account_id: required; set span or resource attribute detector.account_id "
            f"(or one of {', '.join(c.ACCOUNT[:4])}, here or on an ancestor span)",
        )
    service = str(span.resource.get("service.name") or "unknown_service")
    record["account_id"] = fallback_account(service, ctx.sender)
    mark_fallback(record)
    outcome.fallback += 1


def _fold_tools(
    spans: Sequence[SpanView],
    operations: Sequence[str | None],
    mapped: Mapped,
    record_at: dict[Key, int],
    by_key: dict[Key, SpanView],
    outcome: SpanOutcome,
) -> None:
    for span, operation in zip(spans, operations, strict=True):
        if operation != c.TOOL:
            continue
        name = (
            span.attributes.get("gen_ai.tool.name")
            or span.attributes.get("tool.name")
            or span.name.removeprefix("execute_tool ")
        )
        # Climb through non-call spans (framework wrappers) to the call that asked.
        target = next(
            (record_at[key_of(a)] for a in ancestors(span, by_key) if key_of(a) in record_at),
            None,
        )
        if target is None:
            outcome.skipped[ORPHAN_TOOL] += 1
            continue
        record = mapped.records[target]
        record["response_tool_call_names"] = unique(
            [*record.get("response_tool_call_names", []), str(name)]
        )


def span_record(
    span: SpanView,
    ctx: MapContext,
    operation: str | None = None,
    by_key: dict[Key, SpanView] | None = None,
    below: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The canonical record (as a dict) of one model-call span; ``account_id`` may be
    missing, for ``map_spans`` to settle once the call's spans are merged."""
    own = {**span.events, **span.attributes}
    # Who is calling: the span's own names first, then each ancestor's, then the resource's.
    layers = [own, *(inherited(span, by_key) if by_key else []), span.resource]
    attrs: dict[str, Any] = dict(below or {})
    for layer in reversed(layers):
        attrs.update(layer)
    record: dict[str, Any] = {
        name.removeprefix(PREFIX): value
        for name, value in attrs.items()
        if name.startswith(PREFIX) and name.removeprefix(PREFIX) in _FIELDS
    }
    response_id = span.attributes.get("gen_ai.response.id")
    record.setdefault("event_id", _event_id(span, response_id))
    if not span.start_ns:
        raise MapError("ts_start", "ts_start: the span has no startTimeUnixNano")
    record.setdefault("ts_start", span.start_ns / 1e9)
    if span.end_ns:
        record.setdefault("ts_end", span.end_ns / 1e9)
    kept: dict[str, str] = {}
    for depth, layer in enumerate(layers):
        source = c.first_name(layer, c.ACCOUNT)
        if "account_id" not in record and source is not None:
            record["account_id"] = _identifier(layer[source])
            where = "" if depth == 0 else "resource " if layer is span.resource else "inherited "
            kept[SOURCE] = f"{where}{source}"
        for field_name, names in _IDENTITY:
            set_first(record, field_name, layer, names)
    source = c.first_name(attrs, c.ORGANISATION)
    if "account_id" not in record and source is not None:
        record["account_id"] = attrs[source]
        kept[SOURCE] = source
    set_first(record, "request_model", attrs, c.MODEL)
    if "request_model" not in record:
        raise MapError(
            "request_model",
            f"request_model: required; set {' or '.join(c.MODEL[:2])} on the span",
        )
    record.setdefault("operation", operation or c.operation_of(attrs) or "chat")
    set_first(record, "provider", attrs, c.PROVIDER)
    set_first(record, "http_status", attrs, ("http.response.status_code",))
    params = c.invocation(attrs)
    stream = c.boolean(c.first_value(attrs, c.STREAM))
    if stream is None:
        stream = params.get("stream")
    if isinstance(stream, bool):
        record.setdefault("stream", stream)
    # client.address may be a host name (semantic conventions); only an address maps.
    address = next(
        (v for v in (c.first_value(layer, c.CLIENT_ADDRESS) for layer in layers) if v), None
    )
    if "client_ip" not in record and is_ip(address):
        record["client_ip"] = address
    elif address is not None:
        kept["client.address"] = str(address)[:ATTRIBUTE_CHARS]
    tokens(record, attrs)
    reasoning(record, attrs, params)
    if span.error or "error.type" in attrs:
        record.setdefault("status", "error")
    reason = c.finish_reason(c.first_value(attrs, c.FINISH))
    if reason is not None:
        record.setdefault("finish_reason", reason)
    tools(record, attrs)
    messages = (
        c.first_value(attrs, c.INPUT_MESSAGES)
        or indexed_messages(attrs, "gen_ai.prompt", "")
        or indexed_messages(attrs, "llm.input_messages", ".message")
    )
    add_transcript(record, read_input(messages, attrs.get("gen_ai.system_instructions")), ctx)
    record.setdefault("attributes", _kept(attrs, span, kept))
    return record


def _identifier(value: Any) -> Any:
    """A numeric user id (some applications set ``user.id`` as an int) as its text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


def _event_id(span: SpanView, response_id: Any) -> str:
    """Stable across re-exports; the provider's response id when there is one, so that
    a call seen by two instrumentations is one event even across export requests."""
    if isinstance(response_id, str) and response_id:
        if len(response_id) <= 100:
            return f"otlp-response-{response_id}"
        return f"otlp-response-{hashlib.sha256(response_id.encode()).hexdigest()[:40]}"
    return f"otlp-{span.trace_id}-{span.span_id}"


def _kept(attrs: dict[str, Any], span: SpanView, kept: dict[str, str]) -> dict[str, str]:
    out = {"otel.trace_id": span.trace_id, "otel.span_id": span.span_id}
    conversation = c.first_value(attrs, c.CONVERSATION)
    if conversation is not None:
        out["gen_ai.conversation.id"] = str(conversation)[:ATTRIBUTE_CHARS]
    for name in _KEPT:
        value = c.first_value(attrs, (name,))
        if value is not None:
            out[name] = str(value)[:ATTRIBUTE_CHARS]
    return {**out, **kept}
