"""``POST /v1/traces``: an OTLP export request through the common ingest path."""

from __future__ import annotations

from dataclasses import dataclass

from detector.errors import BadBatchError
from detector.ingest import storable
from detector.ingest.body import decompress
from detector.ingest.decode import ItemError
from detector.ingest.mapped import TOO_DEEP, MapContext, store_mapped
from detector.ingest.otlp import Encoding, parse_request, spans_of
from detector.ingest.otlp_genai import SpanOutcome, map_spans
from detector.ingest.service import BatchResult, Ingestor

# How many rejected spans partialSuccess.error_message describes; the count is exact.
_SHOWN_ERRORS = 5


# How partialSuccess names the reasons a span became no record of its own.
_SKIP_WORDS = {
    "not_genai": "not a model call (no GenAI operation)",
    "grouping": "agent, workflow or chain spans (they group calls)",
    "same_call": "the same call as another span (one record kept)",
    "orphan_tool": "tool spans whose call was not in this request",
}


@dataclass(slots=True)
class TracesResult:
    """The batch answer, the spans seen, what became of those that are no record."""

    batch: BatchResult
    spans: int
    outcome: SpanOutcome
    error_message: str

    @property
    def orphan_tool_spans(self) -> int:
        return self.outcome.orphan_tool_spans


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
    mapped, outcome = map_spans(spans, ctx)
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
    described += _notes(outcome, ctx)
    return TracesResult(
        batch=batch, spans=len(spans), outcome=outcome, error_message="; ".join(described)
    )


def _notes(outcome: SpanOutcome, ctx: MapContext) -> list[str]:
    """Warnings for partialSuccess: spans kept as no record of their own, and records
    stored under the fallback account (OTLP allows a message with 0 rejected spans)."""
    notes = []
    skipped = {reason: n for reason, n in sorted(outcome.skipped.items()) if n}
    if skipped:
        parts = ", ".join(f"{n} {_SKIP_WORDS.get(reason, reason)}" for reason, n in skipped.items())
        notes.append(f"skipped {sum(skipped.values())} spans: {parts}")
    if outcome.fallback:
        notes.append(
            f"{outcome.fallback} calls name no caller (enduser.id, user.id, gen_ai.user, "
            "detector.account_id...): stored under unattributed:<service.name>:"
            f"{ctx.sender}"
        )
    return notes
