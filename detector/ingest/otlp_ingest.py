"""``POST /v1/traces``: an OTLP export request through the common ingest path."""

from __future__ import annotations

from dataclasses import dataclass

from detector.errors import BadBatchError
from detector.ingest import storable
from detector.ingest.body import decompress
from detector.ingest.decode import ItemError
from detector.ingest.mapped import TOO_DEEP, MapContext, store_mapped
from detector.ingest.otlp import Encoding, parse_request, spans_of
from detector.ingest.otlp_genai import map_spans
from detector.ingest.service import BatchResult, Ingestor

# How many rejected spans partialSuccess.error_message describes; the count is exact.
_SHOWN_ERRORS = 5


@dataclass(slots=True)
class TracesResult:
    """The batch answer, the spans seen, and tool spans that had no call to fold into."""

    batch: BatchResult
    spans: int
    orphan_tool_spans: int
    error_message: str


def ingest_traces(
    ingestor: Ingestor,
    body: bytes,
    encoding: Encoding,
    content_encoding: str | None,
    ctx: MapContext,
) -> TracesResult:
    raw = decompress(body, content_encoding, max_bytes=ingestor.max_body_bytes)
    try:
        return _ingest(ingestor, raw, encoding, ctx)
    except RecursionError:
        raise BadBatchError(TOO_DEEP) from None


def _ingest(ingestor: Ingestor, raw: bytes, encoding: Encoding, ctx: MapContext) -> TracesResult:
    request, refused = parse_request(raw, encoding, max_spans=ingestor.limits.max_records_per_batch)
    spans = spans_of(request)
    mapped, orphans = map_spans(spans, ctx)
    batch = store_mapped(ingestor, mapped)
    described = [f"span {r.span_id} (trace {r.trace_id}): {r.message}" for r in refused]
    described += [
        f"span {spans[e.index].span_id} (trace {spans[e.index].trace_id}): {e.message}"
        for e in batch.errors[:_SHOWN_ERRORS]
    ]
    if refused:
        # Their index is past every parsed span's: they are not in ``spans``.
        batch.errors += [
            ItemError(len(spans) + i, "span", r.message, storable.RULE)
            for i, r in enumerate(refused)
        ]
        batch.rejected = len(batch.errors)
    if batch.rejected > _SHOWN_ERRORS:
        described[_SHOWN_ERRORS:] = [f"and {batch.rejected - _SHOWN_ERRORS} more"]
    return TracesResult(
        batch=batch, spans=len(spans), orphan_tool_spans=orphans, error_message="; ".join(described)
    )
