"""LiteLLM's ``StandardLoggingPayload`` to canonical records (``POST /v1/litellm``).

The payload is what LiteLLM's ``generic_api`` callback posts, one object a call
(``litellm/types/utils.py``). Its ``log_format`` may be ``json_array`` (the default),
``ndjson`` or ``single``, and the callback labels all three ``application/json``, so
the body's form is read from the body itself. The field mapping is in
docs/ingest-formats.md.
"""

from __future__ import annotations

from typing import Any

from detector.errors import BadBatchError, PayloadTooLargeError
from detector.ingest.body import decompress, ndjson_lines
from detector.ingest.conventions import PLACEHOLDER_USERS
from detector.ingest.decode import ItemError
from detector.ingest.identity import fallback_account, mark_fallback
from detector.ingest.mapped import (
    ATTRIBUTE_CHARS,
    MALFORMED,
    TOO_DEEP,
    MapContext,
    MapError,
    Mapped,
    add_transcript,
    include_cached_input,
    is_ip,
    malformed,
    store_mapped,
)
from detector.ingest.messages import read_input, tool_calls_of, tool_names_of
from detector.ingest.service import BatchResult, Ingestor
from detector.ingest.storable import loads_lenient
from detector.schema import REASONING_MODES, Record

_FIELDS = frozenset(Record.__struct_fields__)
# LiteLLM call types (``CallTypes``) to GenAI operation names; the async twins
# (``acompletion``) are folded onto their sync names first.
_OPERATIONS = {
    "completion": "chat",
    "responses": "chat",
    "anthropic_messages": "chat",
    "generate_content": "generate_content",
    "text_completion": "text_completion",
    "embedding": "embeddings",
}
# reasoning_effort values outside the contract's set, mapped onto its nearest member.
_EFFORT = {"minimal": "low", "xhigh": "high", "disable": "none"}
_KEPT = ("trace_id", "session_id", "model_group", "call_type", "cache_hit", "response_cost")
# Record fields a gateway's caller may set from its request metadata: they describe
# the call; LiteLLM has no word on them.
_CALLER_FIELDS = frozenset({"channel", "content_flags"})
# Other record fields the caller named are kept as attributes, this many at most.
_MAX_CLAIMED = 8


def ingest_litellm(
    ingestor: Ingestor, body: bytes, content_encoding: str | None, ctx: MapContext
) -> BatchResult:
    """Map, validate and store a ``generic_api`` callback body; errors index the payloads."""
    raw = decompress(body, content_encoding, max_bytes=ingestor.max_body_bytes)
    items = split_payloads(raw, max_items=ingestor.limits.max_records_per_batch)
    try:
        return store_mapped(ingestor, map_payloads(items, ctx))
    except RecursionError:
        raise BadBatchError(TOO_DEEP) from None


def split_payloads(body: bytes, *, max_items: int) -> list[Any]:
    """The payload objects of a body: a JSON array, one object, or NDJSON lines."""
    try:
        document = loads_lenient(body)
    except RecursionError:
        raise BadBatchError(TOO_DEEP) from None
    except ValueError:
        document = None
        lines = ndjson_lines(body)
        if len(lines) < 2:
            raise BadBatchError(
                "body: not a JSON array, a JSON object or NDJSON of StandardLoggingPayload"
            ) from None
        items: list[Any] = []
        for number, line in enumerate(lines):
            try:
                items.append(loads_lenient(line))
            except ValueError as exc:
                # One unreadable line is this item's error, not the batch's.
                items.append(_Unreadable(f"payload: line {number + 1} is not valid JSON ({exc})"))
    else:
        items = document if isinstance(document, list) else [document]
    if len(items) > max_items:
        raise PayloadTooLargeError(
            f"payloads: {len(items)} in one batch is over the limit of {max_items}"
        )
    return items


class _Unreadable:
    def __init__(self, message: str) -> None:
        self.message = message


def map_payloads(items: list[Any], ctx: MapContext) -> Mapped:
    mapped = Mapped()
    for index, item in enumerate(items):
        try:
            if isinstance(item, _Unreadable):
                raise MapError("payload", item.message)
            if not isinstance(item, dict):
                raise MapError("payload", "payload: must be a StandardLoggingPayload object")
            mapped.add(index, payload_record(item, ctx))
        except MapError as exc:
            mapped.errors.append(ItemError(index, exc.field, str(exc)))
        except MALFORMED as exc:
            mapped.errors.append(malformed(index, "payload", exc))
    return mapped


def payload_record(payload: dict[str, Any], ctx: MapContext) -> dict[str, Any]:
    """The canonical record (as a dict) of one ``StandardLoggingPayload``."""
    metadata = _dict(payload.get("metadata"))
    params = _dict(payload.get("model_parameters"))
    record: dict[str, Any] = {}
    claimed = _caller_fields(record, metadata)
    call_id = payload.get("litellm_call_id") or payload.get("id")
    if not call_id or not isinstance(call_id, str | int):
        raise MapError(
            "event_id", "event_id: the payload's litellm_call_id (or id) must be a string"
        )
    record["event_id"] = f"litellm-{call_id}"
    _set(record, "ts_start", payload.get("startTime"))
    _set(record, "ts_end", payload.get("endTime"))
    end_user = payload.get("end_user") or metadata.get("user_api_key_end_user_id")
    account = (
        metadata.get("user_api_key_team_id")
        or _named(metadata.get("user_api_key_user_id"))
        or end_user
        or params.get("user")
    )
    _set(record, "account_id", account)
    _fill_from_spend_logs(record, metadata, ("account_id",))
    if "account_id" not in record:
        _fallback(record, ctx)
    # The model the caller asked for: on the proxy that is the model group (its public
    # name); ``model`` is the deployment it was routed to (``openai/gpt-4o-mini``).
    _set(record, "request_model", payload.get("model_group") or payload.get("model"))
    _set(record, "org_id", metadata.get("user_api_key_org_id"))
    _set(record, "api_key_id", metadata.get("user_api_key_hash"))
    if end_user and end_user != record["account_id"]:
        _set(record, "end_user_id", end_user)
    _set(record, "provider", payload.get("custom_llm_provider"))
    _set(record, "user_agent", payload.get("user_agent") or metadata.get("user_agent"))
    address = payload.get("requester_ip_address") or metadata.get("requester_ip_address")
    if is_ip(address):
        _set(record, "client_ip", address)
    _set(record, "operation", _operation(payload.get("call_type")))
    _set(record, "stream", payload.get("stream"))
    if payload.get("status") == "failure":
        record.setdefault("status", "error")
        _http_status(record, payload.get("error_information"))
    _usage(record, payload, metadata)
    _set(record, "reasoning_mode", _reasoning_mode(params))
    tools = tool_names_of(params.get("tools") or params.get("functions"))
    if tools:
        record.setdefault("tool_names", tools)
    response = _dict(payload.get("response"))
    choices = [c for c in _list(response.get("choices")) if isinstance(c, dict)]
    calls = tool_calls_of([_dict(choice.get("message")) for choice in choices])
    if calls:
        record.setdefault("response_tool_call_names", calls)
    if choices:
        _set(record, "finish_reason", choices[0].get("finish_reason"))
    add_transcript(record, read_input(payload.get("messages")), ctx)
    kept = {
        f"litellm.{name}": str(payload[name])[:ATTRIBUTE_CHARS]
        for name in _KEPT
        if payload.get(name) not in (None, "")
    }
    _fill_from_spend_logs(record, metadata, ("org_id", "end_user_id"))
    kept.update(claimed)
    given = record.get("attributes")
    if kept and (given is None or isinstance(given, dict)):
        record["attributes"] = {**kept, **(given or {})}
    return record


def _caller_fields(record: dict[str, Any], metadata: dict[str, Any]) -> dict[str, str]:
    """Set the fields a gateway's caller may name from its request metadata; return
    the other record fields it named, as attributes of what it claimed.

    On the LiteLLM proxy, the ``metadata`` of a request body arrives as
    ``metadata.requester_metadata``, and a caller can send ``spend_logs_metadata``
    too: both are the caller's word. They may describe the call (``channel``,
    ``content_flags``), never replace what LiteLLM itself recorded about who called,
    with which key, from where, when and under which id.
    """
    claimed: dict[str, str] = {}
    for origin in ("requester_metadata", "spend_logs_metadata"):
        for name, value in _dict(metadata.get(origin)).items():
            if name not in _FIELDS or value is None:
                continue
            if name in _CALLER_FIELDS:
                record.setdefault(name, value)
            elif len(claimed) < _MAX_CLAIMED:
                text = value if isinstance(value, str) else repr(value)
                claimed[f"litellm.{origin}.{name}"] = text[:ATTRIBUTE_CHARS]
    return claimed


def _fill_from_spend_logs(
    record: dict[str, Any], metadata: dict[str, Any], names: tuple[str, ...]
) -> None:
    """Who the call is for, from ``spend_logs_metadata``, where LiteLLM recorded no
    one: an SDK caller without keys or teams names its account there."""
    given = _dict(metadata.get("spend_logs_metadata"))
    for name in names:
        if isinstance(given.get(name), str):
            _set(record, name, given[name])


def _named(user_id: Any) -> Any:
    """A proxy user id, unless it is the placeholder the proxy gives every call made
    without a virtual key (``litellm_proxy_admin_name``' default and ``default_user_id``)."""
    return None if user_id in PLACEHOLDER_USERS else user_id


def _fallback(record: dict[str, Any], ctx: MapContext) -> None:
    if not ctx.identity_fallback:
        raise MapError(
            "account_id",
            "account_id: required; set metadata.spend_logs_metadata.account_id, use a team "
            "or user key, or pass user= on the call",
        )
    record["account_id"] = fallback_account("litellm", ctx.sender)
    mark_fallback(record)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _set(record: dict[str, Any], field: str, value: Any) -> None:
    if field not in record and value is not None and value != "":
        record[field] = value


def _operation(call_type: Any) -> str | None:
    if not isinstance(call_type, str) or not call_type:
        return None
    name = call_type.removeprefix("a") if call_type.removeprefix("a") in _OPERATIONS else call_type
    return _OPERATIONS.get(name, name)


def _http_status(record: dict[str, Any], error: Any) -> None:
    code = _dict(error).get("error_code")
    if isinstance(code, str) and code.isascii() and code.isdigit() and len(code) == 3:
        _set(record, "http_status", int(code))
    elif isinstance(code, int) and 100 <= code <= 599:
        _set(record, "http_status", code)


def _usage(record: dict[str, Any], payload: dict[str, Any], metadata: dict[str, Any]) -> None:
    usage = (
        _dict(metadata.get("usage_object"))
        or _dict(_dict(payload.get("hidden_params")).get("usage_object"))
        or _dict(_dict(payload.get("response")).get("usage"))
    )
    prompt = payload.get("prompt_tokens", usage.get("prompt_tokens"))
    completion = payload.get("completion_tokens", usage.get("completion_tokens"))
    # LiteLLM writes 0 and 0 for a call that failed or a stream that reported no usage:
    # nothing was measured, so the counts stay unknown rather than become zero.
    if usage or prompt or completion:
        _set(record, "input_tokens", prompt)
        _set(record, "output_tokens", completion)
    cached = _dict(usage.get("prompt_tokens_details")).get("cached_tokens") or usage.get(
        "cache_read_input_tokens"
    )
    _set(record, "cache_read_input_tokens", cached or None)
    reasoning = _dict(usage.get("completion_tokens_details")).get("reasoning_tokens")
    _set(record, "reasoning_output_tokens", reasoning or None)
    include_cached_input(record)


def _reasoning_mode(params: dict[str, Any]) -> str | None:
    effort = params.get("reasoning_effort")
    if isinstance(effort, dict):
        effort = effort.get("effort")
    if isinstance(effort, str):
        effort = _EFFORT.get(effort, effort)
        return effort if effort in REASONING_MODES else None
    thinking = _dict(params.get("thinking")).get("type")
    if thinking in ("enabled", "adaptive"):
        return str(thinking)
    if thinking == "disabled":
        return "none"
    return None
