"""OTLP/HTTP trace export requests (protobuf or JSON) to plain spans, and OTLP answers.

Both encodings are parsed into the same ``ExportTraceServiceRequest`` message, so one
walker reads them. OTLP/JSON differs from protobuf's canonical JSON in one way that
matters: trace and span ids are hex, not base64 (OTLP specification, "JSON Protobuf
Encoding"), so they are converted before ``ParseDict``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from detector.errors import BadBatchError, PayloadTooLargeError, UnsupportedMediaError
from detector.ingest import storable

Encoding = Literal["protobuf", "json"]

_MEDIA: dict[str, Encoding] = {
    "application/x-protobuf": "protobuf",
    "application/protobuf": "protobuf",
    "application/json": "json",
}
CONTENT_EVENTS = frozenset({"gen_ai.content.prompt", "gen_ai.content.completion"})
_ID_BYTES = {"traceId": 16, "spanId": 8, "parentSpanId": 8}
# google.rpc.Code INVALID_ARGUMENT, the code OTLP asks for with a 400 answer.
_INVALID_ARGUMENT = 3


@dataclass(frozen=True, slots=True)
class SpanView:
    """One span with its resource's attributes, ids in hex and times in nanoseconds."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    start_ns: int
    end_ns: int
    error: bool
    attributes: dict[str, Any]
    resource: dict[str, Any]
    # Attributes of the span's GenAI content events, where instrumentations before the
    # 1.37 conventions put the transcript (``gen_ai.prompt``, ``gen_ai.completion``).
    events: dict[str, Any] = field(default_factory=dict)


def encoding_of(content_type: str | None) -> Encoding:
    """The OTLP encoding named by Content-Type (the exporters always send one)."""
    essence = (content_type or "").split(";", 1)[0].strip().lower()
    try:
        return _MEDIA[essence]
    except KeyError:
        raise UnsupportedMediaError(
            f"Content-Type: {essence or 'none'!r} is not accepted on /v1/traces; "
            "use application/x-protobuf or application/json (OTLP/HTTP)"
        ) from None


@dataclass(frozen=True, slots=True)
class RefusedSpan:
    """A span of an OTLP/JSON request taken out before parsing: a string of it (or of
    its resource or scope) holds a lone surrogate, which a protobuf string cannot."""

    trace_id: str
    span_id: str
    message: str


def parse_request(
    body: bytes, encoding: Encoding, *, max_spans: int
) -> tuple[ExportTraceServiceRequest, list[RefusedSpan]]:
    """The export request in ``body`` and the spans refused before parsing it;
    ``BadBatchError`` naming what is wrong when the body cannot be read at all, and
    ``PayloadTooLargeError`` when it holds more than ``max_spans`` spans.

    The spans are counted right after the bytes are parsed, before any span is
    converted or mapped: a request over the limit costs one C parse, not a walk.
    Spans with a NUL stay in: validation refuses their records as it does every
    record's, whatever the encoding.
    """
    request = ExportTraceServiceRequest()
    if encoding == "protobuf":
        try:
            request.ParseFromString(body)
        except DecodeError as exc:
            raise BadBatchError(f"body: not a protobuf ExportTraceServiceRequest ({exc})") from None
        _check_span_count(
            sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans), max_spans
        )
        return request, []
    quick = _quick_span_count(body)
    if quick is not None:
        _check_span_count(quick, max_spans)
    try:
        document = storable.loads_lenient(body or b"{}")
    except (ValueError, RecursionError) as exc:
        raise BadBatchError(f"body: not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise BadBatchError("body: an OTLP/JSON ExportTraceServiceRequest must be an object")
    _check_span_count(_checked_span_count(document), max_spans)
    refused = _take_surrogate_spans(document) if storable.may_hold(body) else []
    _hex_ids_to_base64(document)
    try:
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except (json_format.ParseError, RecursionError) as exc:
        raise BadBatchError(f"body: not an OTLP ExportTraceServiceRequest ({exc})") from None
    return request, refused


class _Scope(msgspec.Struct):
    spans: list[msgspec.Raw] = []


class _Resource(msgspec.Struct):
    # OTLP/JSON names, in both spellings protobuf's JSON parser accepts.
    scopeSpans: list[_Scope] = []
    scope_spans: list[_Scope] = []


class _Request(msgspec.Struct):
    resourceSpans: list[_Resource] = []
    resource_spans: list[_Resource] = []


_COUNTER = msgspec.json.Decoder(_Request)


def _quick_span_count(body: bytes) -> int | None:
    """The spans of an OTLP/JSON body, counted without building them: each span is
    only skipped over as raw bytes, so a request over the limit is refused for a
    fraction of what parsing it costs. None when the body is not that plain (a
    level of another shape, a lone surrogate): the full parse then counts and
    names what is wrong."""
    try:
        request = _COUNTER.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return None
    return sum(
        len(scope.spans)
        for resource in (*request.resourceSpans, *request.resource_spans)
        for scope in (*resource.scopeSpans, *resource.scope_spans)
    )


def _checked_span_count(document: dict[str, Any]) -> int:
    """The number of spans in an OTLP/JSON document, once every level that holds them
    is known to be a list of objects; ``BadBatchError`` naming the first that is not."""
    count = 0
    resources = _levels(document, "resourceSpans", "resource_spans", "")
    for r, resource_spans in enumerate(resources):
        where = f"resourceSpans[{r}]"
        for s, scope_spans in enumerate(
            _levels(resource_spans, "scopeSpans", "scope_spans", where)
        ):
            count += len(_levels(scope_spans, "spans", "spans", f"{where}.scopeSpans[{s}]"))
    return count


def _levels(parent: dict[str, Any], camel: str, snake: str, where: str) -> list[Any]:
    value = parent.get(camel, parent.get(snake))
    name = f"{where}.{camel}" if where else camel
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadBatchError(f"{name}: must be a list, not {type(value).__name__}")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise BadBatchError(f"{name}[{index}]: must be an object, not {type(item).__name__}")
    return value


def _check_span_count(count: int, max_spans: int) -> None:
    if count > max_spans:
        raise PayloadTooLargeError(
            f"spans: {count} in one request is over the limit of {max_spans}; "
            "export smaller batches (e.g. the batch processor's max_export_batch_size)"
        )


def _take_surrogate_spans(document: dict[str, Any]) -> list[RefusedSpan]:
    """Remove every span holding a lone surrogate from ``document``, and describe each.

    A resource's or a scope's strings belong to each of its spans: one there refuses
    them all, and the resource or scope goes with them.
    """
    refused: list[RefusedSpan] = []
    resources = _list(document, "resourceSpans", "resource_spans")
    for r, resource_spans in enumerate(resources):
        where = f"resourceSpans[{r}]"
        around = _surrogate_outside(resource_spans, where, ("scopeSpans", "scope_spans"))
        scopes = _list(resource_spans, "scopeSpans", "scope_spans")
        for s, scope_spans in enumerate(scopes):
            found = around or _surrogate_outside(
                scope_spans, f"{where}.scopeSpans[{s}]", ("spans",)
            )
            spans = _list(scope_spans, "spans", "spans")
            kept = []
            for span in spans:
                problem = found or storable.find_surrogate(span)
                if problem is None:
                    kept.append(span)
                    continue
                # ascii(): an id may hold the surrogate too, and the answer must not.
                trace, span_id = (
                    ascii(span.get(key, span.get(_snake(key), "")))[1:-1][:32]
                    for key in ("traceId", "spanId")
                )
                refused.append(RefusedSpan(trace, span_id, problem[1]))
            if found:
                scopes[s] = {}
            elif len(kept) < len(spans):
                scope_spans["spans"] = kept
        if around:
            resources[r] = {}
    return refused


def _surrogate_outside(
    parent: Any, where: str, children: tuple[str, ...]
) -> tuple[str, str] | None:
    if not isinstance(parent, dict):
        return None
    own = {f"{where}.{k}": v for k, v in parent.items() if k not in children}
    return storable.find_surrogate(own)


def _hex_ids_to_base64(document: dict[str, Any]) -> None:
    for r, resource_spans in enumerate(_list(document, "resourceSpans", "resource_spans")):
        for s, scope_spans in enumerate(_list(resource_spans, "scopeSpans", "scope_spans")):
            for i, span in enumerate(_list(scope_spans, "spans", "spans")):
                where = f"resourceSpans[{r}].scopeSpans[{s}].spans[{i}]"
                for name, size in _ID_BYTES.items():
                    for key in (name, _snake(name)):
                        if key in span:
                            span[key] = _hex_to_base64(span[key], size, f"{where}.{name}")


def _list(parent: Any, camel: str, snake: str) -> list[Any]:
    if not isinstance(parent, dict):
        return []
    value = parent.get(camel, parent.get(snake))
    return value if isinstance(value, list) else []


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _hex_to_base64(value: Any, size: int, where: str) -> str:
    if value in ("", None) and where.endswith("parentSpanId"):
        return ""
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != size:
        raise BadBatchError(f"{where}: {str(value)[:40]!r} is not {2 * size} hex digits")
    return base64.b64encode(raw).decode()


def spans_of(request: ExportTraceServiceRequest) -> list[SpanView]:
    """Every span of the request, in order, with its resource attributes beside it."""
    spans: list[SpanView] = []
    for resource_spans in request.resource_spans:
        resource = attributes_of(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    SpanView(
                        trace_id=binascii.hexlify(span.trace_id).decode(),
                        span_id=binascii.hexlify(span.span_id).decode(),
                        parent_span_id=binascii.hexlify(span.parent_span_id).decode(),
                        name=span.name,
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        error=span.status.code == Status.STATUS_CODE_ERROR,
                        attributes=attributes_of(span.attributes),
                        resource=resource,
                        events=_content_events(span.events),
                    )
                )
    return spans


def _content_events(events: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for event in events:
        if event.name in CONTENT_EVENTS:
            merged.update(attributes_of(event.attributes))
    return merged


def attributes_of(pairs: Any) -> dict[str, Any]:
    """OTLP key-value pairs as a dict of plain Python values."""
    out: dict[str, Any] = {}
    for pair in pairs:
        assert isinstance(pair, KeyValue)
        out[pair.key] = value_of(pair.value)
    return out


def value_of(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [value_of(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes_of(value.kvlist_value.values)
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def answer(encoding: Encoding, rejected: int, message: str) -> tuple[bytes, str]:
    """An ``ExportTraceServiceResponse`` body and its content type.

    ``partial_success`` is left unset when nothing was rejected and there is nothing to
    warn of; with 0 rejected spans its message is a warning, as the specification allows.
    """
    response = ExportTraceServiceResponse()
    if rejected or message:
        response.partial_success.CopyFrom(
            ExportTracePartialSuccess(rejected_spans=rejected, error_message=message)
        )
    if encoding == "protobuf":
        return response.SerializeToString(), "application/x-protobuf"
    return orjson.dumps(json_format.MessageToDict(response)), "application/json"


def error_answer(encoding: Encoding, message: str) -> tuple[bytes, str]:
    """A ``google.rpc.Status`` body for a request refused as a whole."""
    if encoding == "protobuf":
        status = status_pb2.Status(code=_INVALID_ARGUMENT, message=message)
        return status.SerializeToString(), "application/x-protobuf"
    # "detail" too, so that JSON clients of the other endpoints read it the same way.
    body = {"code": _INVALID_ARGUMENT, "message": message, "detail": message}
    return orjson.dumps(body), "application/json"
