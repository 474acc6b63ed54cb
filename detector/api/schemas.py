"""The shapes of the API's answers, for the OpenAPI document (``openapi.py``).

The routes build their answers as plain dicts (the ingest path's answer is
``BatchResult.as_dict``); these models describe those dicts, and
tests/api/test_openapi.py checks real answers against them, so the two cannot drift.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ItemError(BaseModel):
    index: int = Field(description="place of the item in the batch (a span, a payload)")
    field: str = Field(description="the field blamed, e.g. `ts_start`, `account_id`")
    message: str = Field(description="names the field, the value and the rule broken")


class BatchAnswer(BaseModel):
    """Every accepted record is durable when this answer is sent."""

    accepted: int
    duplicates: int = Field(description="records whose event_id was already accepted")
    rejected: int
    errors: list[ItemError]


class Error(BaseModel):
    detail: str = Field(description="what is wrong, naming the field and the rule")


class Problem(BaseModel):
    field: str = Field(description="where: a parameter, or a path inside the body")
    message: str = Field(description="the rule it breaks")


class ValidationErrors(BaseModel):
    """Every 422: one message a person reads, and each problem for a tool."""

    detail: str = Field(description="every problem, 'field: rule; ...'")
    errors: list[Problem]


class RpcStatus(BaseModel):
    """``google.rpc.Status`` as OTLP/JSON sends it (protobuf for protobuf requests)."""

    code: int = Field(description="3: INVALID_ARGUMENT")
    message: str
    detail: str = Field(description="the same message, as the other endpoints name it")


class PartialSuccess(BaseModel):
    rejectedSpans: str = Field(description="int64, a string in OTLP/JSON")
    errorMessage: str = Field(
        description="the first five rejected spans and why; spans skipped as no call; "
        "calls stored under the fallback account"
    )


class ExportTraceServiceResponse(BaseModel):
    """OTLP's answer; ``partialSuccess`` only when a span was rejected or skipped."""

    partialSuccess: PartialSuccess | None = None


class Worker(BaseModel):
    """The process holding the pipeline's lease."""

    holder: str = Field(description="host:pid of the process")
    expires_at: float = Field(description="when the lease lapses, epoch seconds")
    expires: str = Field(description="the same time, RFC 3339")


class PipelineState(BaseModel):
    received: int
    processed: int
    pending: int
    quarantined: int = Field(description="records set aside because a step failed on them")
    watermark: str | None = Field(description="event time up to which windows are closed")
    latest_event: str | None
    late: int
    windows_closed: int
    worker: Worker | None = Field(description="the process holding the pipeline's lease")
    duplicates: int
    rejected: int
    segments: int
    stored_bytes: int


class CaseSummary(BaseModel):
    case_id: str
    cluster_id: str
    status: Literal["open", "in_review", "snoozed", "closed", "cleared"]
    score: float = Field(ge=0, le=1)
    peak_score: float
    opened_at: str = Field(description="the event time at which it was first flagged")
    last_event_at: str
    last_flagged_at: str
    updated_at: str
    account_count: int
    record_count: int
    capability_mix: dict[str, Any]
    reasons: list[Any] = Field(description="short, human-readable")
    signatures: list[Any]
    campaign_id: str | None


class CasePage(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class CaseDetail(CaseSummary):
    campaign_cases: list[str]
    account_ids: list[str]
    features: dict[str, Any]
    shared: Any
    timeline: Any


class DecisionIn(BaseModel):
    action: Literal["accept", "watch", "block", "escalate"]
    note: str = Field(default="", max_length=10_000)
    actor: str = Field(default="api", min_length=1, max_length=256)


class Decision(BaseModel):
    decision_id: Any
    case_id: str
    action: str
    status: str = Field(description="the case's status after the decision")
    outcome: str = Field(description="blocked, accepted, watched or escalated")
    note: str
    actor: str
    created_at: str


class DecisionLine(BaseModel):
    decision_id: Any
    case_id: str
    action: str
    outcome: str
    note: str
    actor: str
    created_at: str


class DecisionList(BaseModel):
    """A case's standing decisions, newest first."""

    case_id: str
    items: list[DecisionLine]


class BlockedAccount(BaseModel):
    account_id: str
    case_id: str
    decision_id: Any
    blocked_at: str
    actor: str


class Blocklist(BaseModel):
    count: int
    items: list[BlockedAccount]


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
