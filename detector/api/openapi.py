"""The OpenAPI document served at ``/openapi.json`` (and rendered at ``/docs``).

FastAPI's generated document knows the routes and their parameters but not the ingest
bodies (read raw, for speed and for NDJSON, gzip and protobuf) nor the answers the
routes build as dicts. This module adds both, in one place, so the routes stay as they
are: the record and account schemas come from the msgspec types that validate them
(``detector.schema``), the field meanings from the contract's tables
(``FIELD_DOCS``), the answers from ``schemas.py``, and every status code each route can
give from ``_ANSWERS``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from detector.api import schemas as s
from detector.schema import Account, Record

DESCRIPTION = (
    "Detects distillation attacks and API abuse in LLM API logs. Log pipelines post "
    "records of model calls (or OTLP traces, or LiteLLM callback payloads); the pipeline "
    "opens cases that reviewers decide. Every write and reviewer endpoint needs "
    "`Authorization: Bearer <token>`. The prose reference is docs/api.md."
)

FIELD_DOCS: dict[str, str] = {
    "event_id": "unique id of the call; the idempotency key",
    "ts_start": "when the call started (event time): RFC 3339 or epoch seconds",
    "account_id": "the billing account / organisation the API key belongs to",
    "request_model": "model asked for, e.g. claude-opus-4-6",
    "ts_end": "when the call ended",
    "api_key_id": "key identifier (never the secret)",
    "org_id": "parent organisation, where accounts nest",
    "end_user_id": "pseudonymous end user (Anthropic metadata.user_id, OpenAI safety_identifier)",
    "client_ip": "caller address, IPv4 or IPv6",
    "user_agent": "caller's client / SDK string",
    "provider": "anthropic, openai, ... (OTel gen_ai.provider.name)",
    "operation": "OTel gen_ai.operation.name; default chat",
    "channel": "access path: api, cloud:<name>, batch, ...",
    "input_tokens": "all input tokens, cached ones included",
    "output_tokens": "all output tokens, reasoning ones included",
    "reasoning_output_tokens": "of output_tokens, the thinking/reasoning part",
    "cache_read_input_tokens": "of input_tokens, read from the prompt cache",
    "reasoning_mode": "extended thinking / reasoning effort asked for",
    "tool_names": "tools offered in the request",
    "response_tool_call_names": "tools the model called in its response",
    "image_inputs": "images in the request",
    "message_count": "messages in the request",
    "system_fingerprint": "keyed hash of the normalised system prompt",
    "prompt_fingerprint": "keyed hash of the normalised last user turn",
    "template_fingerprint": "keyed hash of the last user turn with numbers, quotes, URLs masked",
    "prompt_chars": "length of the last user turn",
    "prompt_text": "the last user turn, only where the sender opts in; fingerprinted by the server",
    "content_flags": "tags a sender's own classifier set, e.g. cot_elicitation",
    "status": "outcome; default success",
    "http_status": "HTTP status returned to the caller",
    "finish_reason": "end_turn, tool_use, max_tokens, ...",
    "stream": "streamed response",
    "attributes": "anything else, string to string, bounded in size",
    "created_at": "sign-up time",
    "payment_fingerprint": "keyed hash of the payment instrument",
    "email_domain": "domain of the sign-up e-mail",
    "signup_ip": "address the account signed up from",
    "country": "ISO 3166-1 alpha-2",
    "program": "standard, edu, startup, research, enterprise, ...",
    "verified": "identity verification passed",
}

_REF = "#/components/schemas/{model}"
_BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
_GZIP = "Any body may be gzip-compressed (`Content-Encoding: gzip`)."


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


def _json(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(name)}}


def _batch_body(item: str, extra: str = "") -> dict[str, Any]:
    array = {"type": "array", "items": _ref(item)}
    return {
        "required": True,
        "description": f'A JSON array, `{{"records": [...]}}`, or NDJSON. {_GZIP} {extra}',
        "content": {
            "application/json": {
                "schema": {"oneOf": [array, {"type": "object", "properties": {"records": array}}]}
            },
            "application/x-ndjson": {
                "schema": {"type": "string", "description": f"one {item} a line"}
            },
        },
    }


_OTLP_BODY = {
    "required": True,
    "description": "OTLP/HTTP ExportTraceServiceRequest (opentelemetry-proto); every span "
    "that is a model call becomes a record (docs/ingest-formats.md). " + _GZIP,
    "content": {
        "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
        "application/json": {
            "schema": {
                "type": "object",
                "description": "OTLP/JSON: lowerCamelCase names, hex trace and span ids",
                "properties": {"resourceSpans": {"type": "array", "items": {"type": "object"}}},
            }
        },
    },
}
_LITELLM_BODY = {
    "required": True,
    "description": "LiteLLM StandardLoggingPayload objects, as its generic_api callback "
    "posts them: a JSON array, NDJSON, or one object. " + _GZIP,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {"type": "array", "items": {"type": "object"}},
                    {"type": "object"},
                ]
            }
        }
    },
}

_E = {
    400: ("the body cannot be read at all (not JSON, not NDJSON, not the format)", "Error"),
    401: ("no valid bearer token", "Error"),
    404: ("no such case", "Error"),
    409: ("the pipeline runs in another process; flush it there", "Error"),
    413: ("body or batch over the configured limit (before or after gzip)", "Error"),
    415: ("unsupported Content-Type", "Error"),
    422: ("a parameter is invalid; the message names it and the rule", "ValidationErrors"),
    503: ("store unavailable; retry the same batch (event_id makes it safe)", "Error"),
}
_INGEST = (400, 401, 413, 415, 503)
_ANSWERS: dict[tuple[str, str], tuple[Any, str, tuple[int, ...]]] = {
    ("post", "/v1/records"): (_batch_body("Record"), "BatchAnswer", _INGEST),
    ("post", "/v1/accounts"): (
        _batch_body("Account", "Accounts are upserted by account_id."),
        "BatchAnswer",
        _INGEST,
    ),
    ("post", "/v1/litellm"): (_LITELLM_BODY, "BatchAnswer", _INGEST),
    ("post", "/v1/traces"): (_OTLP_BODY, "ExportTraceServiceResponse", _INGEST),
    ("get", "/v1/pipeline"): (None, "PipelineState", (401,)),
    ("post", "/v1/pipeline/flush"): (None, "PipelineState", (401, 409, 503)),
    ("get", "/v1/cases"): (None, "CasePage", (401, 422)),
    ("get", "/v1/cases/{case_id}"): (None, "CaseDetail", (401, 404)),
    ("post", "/v1/cases/{case_id}/decisions"): (
        None,
        "Decision",
        (400, 401, 404, 413, 422, 503),
    ),
    ("get", "/v1/cases/{case_id}/decisions"): (None, "DecisionList", (401, 404)),
    ("get", "/v1/blocklist"): (None, "Blocklist", (401, 422)),
    ("get", "/healthz"): (None, "Health", ()),
    ("get", "/readyz"): (None, "Health", (503,)),
}
_MODELS: tuple[type[BaseModel], ...] = (
    s.ItemError,
    s.BatchAnswer,
    s.Error,
    s.Problem,
    s.ValidationErrors,
    s.RpcStatus,
    s.PartialSuccess,
    s.ExportTraceServiceResponse,
    s.Worker,
    s.PipelineState,
    s.CaseSummary,
    s.CasePage,
    s.CaseDetail,
    s.DecisionIn,
    s.Decision,
    s.DecisionList,
    s.BlockedAccount,
    s.Blocklist,
    s.Health,
)


def build(app: FastAPI) -> dict[str, Any]:
    """The complete document for ``app``'s routes."""
    doc = get_openapi(
        title=app.title, version=app.version, description=DESCRIPTION, routes=app.routes
    )
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(_msgspec_schemas())
    for model in _MODELS:
        schema = model.model_json_schema(ref_template=_REF, by_alias=True)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    components["securitySchemes"] = {
        "bearerAuth": {"type": "http", "scheme": "bearer", "description": "DETECTOR_API_TOKENS"}
    }
    for (method, path), (body, answer, codes) in _ANSWERS.items():
        operation = doc.get("paths", {}).get(path, {}).get(method)
        if operation is None:
            continue
        if body is not None:
            operation["requestBody"] = body
        ok = "201" if "201" in operation.get("responses", {}) else "200"
        media = _json(answer)
        if path == "/v1/traces":
            media = {"application/x-protobuf": {"schema": {"type": "string"}}, **media}
        elif path == "/v1/blocklist":
            media = {**media, "text/csv": {"schema": {"type": "string"}}}
        responses: dict[str, Any] = {ok: {"description": "OK", "content": media}}
        for code in codes:
            description, shape = _E[code]
            content = _json(shape)
            if path == "/v1/traces" and code == 400:
                content = {"application/x-protobuf": {"schema": {"type": "string"}}}
                content.update(_json("RpcStatus"))
            if path in ("/healthz", "/readyz"):
                description, content = "store unreachable or schema not at head", _json("Health")
            responses[str(code)] = {"description": description, "content": content}
        operation["responses"] = responses
        if path.startswith("/v1/"):
            operation["security"] = _BEARER
        if method == "post" and path.endswith("/decisions"):
            operation["requestBody"] = {"required": True, "content": _json("DecisionIn")}
    return doc


def _msgspec_schemas() -> dict[str, Any]:
    (_, _), components = msgspec.json.schema_components(
        [Record, Account], ref_template=_REF.replace("{model}", "{name}")
    )
    for name in ("Record", "Account"):
        properties = components.get(name, {}).get("properties", {})
        for field, schema in properties.items():
            if field in FIELD_DOCS:
                schema["description"] = FIELD_DOCS[field]
    components["Record"]["description"] = (
        "One model call as seen by the API provider or gateway. Unknown fields are "
        "ignored; string, list and attribute sizes are bounded by configuration."
    )
    return dict(components)


def install(app: FastAPI) -> None:
    """Serve ``build(app)`` (computed once) as the app's OpenAPI document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
