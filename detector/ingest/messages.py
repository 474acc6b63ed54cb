"""What the canonical record needs from a chat transcript, in the shapes senders log it.

Two shapes are read:

- OpenTelemetry GenAI (``gen_ai.input.messages``): ``{"role", "parts": [{"type": "text",
  "content"}, {"type": "blob" | "uri" | "file", "modality": "image"}, {"type":
  "tool_call", "name"}]}``;
- OpenAI chat (LiteLLM, older instrumentations): ``{"role", "content": "..." | [{"type":
  "text", "text"}, {"type": "image_url"}]}`` with ``tool_calls: [{"function": {"name"}}]``.

Pure functions: no I/O, nothing raised for odd shapes (an unreadable part is skipped,
since a log line must never be refused for the transcript it carries).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

_IMAGE_TYPES = frozenset({"image", "image_url", "input_image"})
_TEXT_TYPES = frozenset({"text", "input_text", "output_text"})


@dataclass(slots=True)
class Transcript:
    """The parts of a request the record keeps: counts, the last user turn, the system prompt."""

    message_count: int = 0
    image_inputs: int = 0
    last_user_text: str | None = None
    system_text: str | None = None
    tool_call_names: list[str] = field(default_factory=list)


def loads_maybe(value: Any) -> Any:
    """``value`` parsed as JSON when it is a JSON text, else ``value`` itself.

    Structured GenAI attributes arrive as JSON strings where the attribute type cannot
    hold a list (OTLP attributes, most SDKs).
    """
    if isinstance(value, str | bytes):
        text = value.strip()
        if text[:1] in ("[", "{", b"[", b"{"):
            try:
                return orjson.loads(text)
            except orjson.JSONDecodeError:
                return value
    return value


def read_input(messages: Any, system: Any = None) -> Transcript:
    """Counts and texts of the request messages (``system`` given separately, if at all).

    >>> t = read_input([{"role": "system", "content": "Be brief."},
    ...                 {"role": "user", "content": [{"type": "text", "text": "Hi"},
    ...                                              {"type": "image_url"}]}])
    >>> (t.message_count, t.image_inputs, t.last_user_text, t.system_text)
    (1, 1, 'Hi', 'Be brief.')
    """
    transcript = Transcript()
    system_parts: list[str] = []
    for message in _messages(messages):
        role = message.get("role")
        parts = _parts(message)
        if role in ("system", "developer"):
            system_parts.extend(_texts(parts))
            continue
        transcript.message_count += 1
        transcript.image_inputs += sum(1 for part in parts if _is_image(part))
        if role == "user":
            texts = list(_texts(parts))
            if texts:
                transcript.last_user_text = "\n".join(texts)
    given = _system_texts(loads_maybe(system))
    if given:
        system_parts = given
    if system_parts:
        transcript.system_text = "\n".join(system_parts)
    return transcript


def tool_calls_of(messages: Any) -> list[str]:
    """Names of the tools an assistant output asked for, in order, each once."""
    names: list[str] = []
    for message in _messages(messages):
        for part in _parts(message):
            if part.get("type") in ("tool_call", "function_call") and part.get("name"):
                names.append(str(part["name"]))
        calls = message.get("tool_calls")
        for call in calls if isinstance(calls, list) else ():
            if isinstance(call, dict):
                function = call.get("function")
                name = function.get("name") if isinstance(function, dict) else call.get("name")
                if name:
                    names.append(str(name))
    return unique(names)


def tool_names_of(definitions: Any) -> list[str]:
    """Names of the tools a request offered, from OpenAI, Anthropic or GenAI definitions."""
    definitions = loads_maybe(definitions)
    if not isinstance(definitions, list):
        return []
    names: list[str] = []
    for item in definitions:
        item = loads_maybe(item)
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict):
            function = item.get("function")
            name = function.get("name") if isinstance(function, dict) else item.get("name")
            if name:
                names.append(str(name))
    return unique(names)


def unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _messages(messages: Any) -> Iterator[dict[str, Any]]:
    messages = loads_maybe(messages)
    if isinstance(messages, dict):
        # {"messages": [...]} wrappers and single-message objects both occur.
        inner = messages.get("messages")
        messages = inner if isinstance(inner, list) else [messages]
    if not isinstance(messages, list):
        return
    for message in messages:
        if isinstance(message, dict):
            yield message


def _parts(message: dict[str, Any]) -> list[dict[str, Any]]:
    parts = message.get("parts")
    if parts is None:
        parts = message.get("content")
    if isinstance(parts, str):
        return [{"type": "text", "content": parts}]
    if isinstance(parts, list):
        return [
            part if isinstance(part, dict) else {"type": "text", "content": str(part)}
            for part in parts
        ]
    return []


def _texts(parts: Iterable[dict[str, Any]]) -> Iterator[str]:
    for part in parts:
        if _kind(part, "text") in _TEXT_TYPES:
            text = part.get("content", part.get("text"))
            if isinstance(text, str):
                yield text


def _is_image(part: dict[str, Any]) -> bool:
    return _kind(part) in _IMAGE_TYPES or part.get("modality") == "image"


def _kind(part: dict[str, Any], default: str = "") -> str:
    """A part's ``type`` when it is a string: a list or an object there names no type
    (and cannot be looked up in a set)."""
    kind = part.get("type", default)
    return kind if isinstance(kind, str) else ""


def _system_texts(system: Any) -> list[str]:
    if isinstance(system, str):
        return [system] if system else []
    if isinstance(system, dict):
        system = [system]
    if isinstance(system, list):
        return list(_texts(_parts({"parts": system})))
    return []
