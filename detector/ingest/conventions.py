"""Where each record field is found in the telemetry that real clients emit.

One table per field: the attribute names, most specific first, across the conventions
in use. Pure data and pure lookups; docs/ingest-formats.md lists the same tables.

- OpenTelemetry GenAI (1.37+ and the deprecated names before it);
- OpenInference (``llm.*``, ``user.id``, ``session.id``, ``openinference.span.kind``);
- OpenLLMetry / Traceloop (``gen_ai.user``, ``traceloop.association.properties.*``,
  ``gen_ai.is_streaming``, ``llm.request.type``);
- LiteLLM's OTel callback (``llm.user``, ``metadata.user_api_key_*``, ``llm.openai.*``);
- the Anthropic SDK's own spans (``anthropic.organization.id``, ``anthropic.thinking.type``,
  ``anthropic.message.stop_reason``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from detector.ingest.messages import loads_maybe
from detector.schema import REASONING_MODES

ASSOCIATION = "traceloop.association.properties."

# Who is calling: the account first, as explicit as each convention gets.
ACCOUNT = (
    "enduser.id",
    "user.id",
    "gen_ai.request.user",
    "gen_ai.user",
    "llm.user",
    f"{ASSOCIATION}account_id",
    f"{ASSOCIATION}user_id",
    "metadata.user_api_key_team_id",
    "metadata.user_api_key_user_id",
    "llm.openai.user",
)
# What the LiteLLM proxy names the user of every call made without a virtual key: no
# caller at all.
PLACEHOLDER_USERS = frozenset(("default_user_id", "litellm_proxy_admin_name"))
# The organisation the provider says answered: an account when nothing names one.
ORGANISATION = ("anthropic.organization.id", "openai.organization", "metadata.user_api_key_org_id")
END_USER = ("enduser.pseudo.id", "metadata.user_api_key_end_user_id", f"{ASSOCIATION}end_user_id")
API_KEY = ("metadata.user_api_key_hash",)
CLIENT_ADDRESS = ("client.address", "http.client_ip", "metadata.requester_ip_address")
USER_AGENT = ("user_agent.original", "http.user_agent", "metadata.user_agent")
CONVERSATION = ("gen_ai.conversation.id", "session.id", f"{ASSOCIATION}session_id")

MODEL = ("gen_ai.request.model", "llm.model_name", "gen_ai.response.model", "llm.openai.model")
PROVIDER = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
INPUT = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt")
OUTPUT = (
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
)
REASONING_TOKENS = (
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.reasoning_tokens",
    "llm.token_count.completion_details.reasoning",
)
CACHE_READ = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "llm.token_count.prompt_details.cache_read",
)
REASONING_EFFORT = (
    "gen_ai.request.reasoning.level",
    "gen_ai.request.reasoning_effort",
    "gen_ai.openai.request.reasoning_effort",
    "llm.openai.reasoning_effort",
)
STREAM = ("gen_ai.request.stream", "gen_ai.is_streaming", "llm.is_streaming", "llm.openai.stream")
FINISH = ("gen_ai.response.finish_reasons", "anthropic.message.stop_reason", "llm.finish_reason")
TOOLS = ("gen_ai.tool.definitions", "llm.request.functions")
INPUT_MESSAGES = ("gen_ai.input.messages", "gen_ai.prompt")
OUTPUT_MESSAGES = ("gen_ai.output.messages", "gen_ai.completion")
INVOCATION = "llm.invocation_parameters"
# LiteLLM's plain child span of each call, holding the request it sent the provider.
RAW_REQUEST = "llm.openai."

# Attributes an ancestor span (the application's request span, an agent run, a
# Traceloop workflow) passes down to the model calls under it.
INHERITED = frozenset(
    (
        *ACCOUNT,
        *ORGANISATION,
        *END_USER,
        *API_KEY,
        *CLIENT_ADDRESS,
        *USER_AGENT,
        *CONVERSATION,
        "gen_ai.agent.name",
    )
)
INHERITED_FIELDS = frozenset(
    ("account_id", "org_id", "api_key_id", "end_user_id", "client_ip", "user_agent", "channel")
)

# Operations that name a model call under another name (LiteLLM's call types).
OPERATIONS = {
    "completion": "chat",
    "acompletion": "chat",
    "responses": "chat",
    "aresponses": "chat",
    "anthropic_messages": "chat",
    "aanthropic_messages": "chat",
    "text_completion": "text_completion",
    "atext_completion": "text_completion",
    "embedding": "embeddings",
    "aembedding": "embeddings",
    "embedding_request": "embeddings",
    "generate_content": "generate_content",
    "agenerate_content": "generate_content",
}
# Spans that group model calls (an agent's run, a workflow, a task): never a call.
GROUPING = frozenset(
    (
        *("invoke_agent", "create_agent", "invoke_workflow", "workflow", "agent", "task"),
        # OpenInference kinds that are not model calls either.
        *("chain", "retriever", "reranker", "guardrail", "evaluator"),
    )
)
TOOL = "execute_tool"
# OpenInference span kinds to GenAI operations; other kinds group or retrieve.
OPENINFERENCE_KINDS = {"LLM": "chat", "EMBEDDING": "embeddings", "TOOL": TOOL}
# reasoning effort names outside the contract's set, on its nearest member.
EFFORT = {"minimal": "low", "xhigh": "high", "max": "high", "disable": "none", "disabled": "none"}


def operation_of(attrs: dict[str, Any]) -> str | None:
    """The GenAI operation of a span: a model call's, ``execute_tool``, a grouping
    span's (in ``GROUPING``), or None for a span that is none of these."""
    operation = attrs.get("gen_ai.operation.name")
    if not isinstance(operation, str) or not operation:
        kind = attrs.get("openinference.span.kind")
        if isinstance(kind, str) and kind:
            return OPENINFERENCE_KINDS.get(kind.upper(), kind.lower())
        operation = attrs.get("llm.request.type")
        if not isinstance(operation, str) or not operation:
            span_kind = attrs.get("traceloop.span.kind")
            return span_kind if span_kind in GROUPING else None
    operation = operation.strip().lower()
    return OPERATIONS.get(operation, operation)


def first_value(attrs: dict[str, Any], names: Sequence[str]) -> Any:
    """The value of the first name present and not empty."""
    for name in names:
        value = attrs.get(name)
        if value is not None and value != "" and value != []:
            return value
    return None


def first_name(attrs: dict[str, Any], names: Sequence[str]) -> str | None:
    """The first name present, not empty and not a placeholder user."""
    for name in names:
        value = attrs.get(name)
        if value is not None and value != "" and value != [] and value not in PLACEHOLDER_USERS:
            return name
    return None


def reasoning_mode(value: Any) -> str | None:
    """A reasoning effort or thinking type as a contract ``reasoning_mode``, or None."""
    if isinstance(value, dict):
        value = value.get("effort", value.get("type"))
    if not isinstance(value, str):
        return None
    value = value.strip().lower()
    value = EFFORT.get(value, value)
    return value if value in REASONING_MODES else None


def invocation(attrs: dict[str, Any]) -> dict[str, Any]:
    """OpenInference's ``llm.invocation_parameters`` (a JSON text), as a dict."""
    params = loads_maybe(attrs.get(INVOCATION))
    return params if isinstance(params, dict) else {}


def boolean(value: Any) -> Any:
    """``"true"``/``"false"`` strings (LiteLLM writes Python's ``"False"``) as bools."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def finish_reason(value: Any) -> str | None:
    """The first finish reason of a list, a JSON list text or a plain string."""
    value = loads_maybe(value)
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value not in (None, "") else None


def indexed(attrs: dict[str, Any], prefix: str, suffix: str) -> list[Any]:
    """Values of flattened ``<prefix>.<i><suffix>`` attributes, in index order."""
    found: dict[int, Any] = {}
    start = f"{prefix}."
    for name, value in attrs.items():
        if name.startswith(start) and name.endswith(suffix):
            index = name[len(start) : len(name) - len(suffix)]
            if index.isdigit():
                found[int(index)] = value
    return [found[i] for i in sorted(found)]
