"""Characters no store can keep, refused where a batch arrives.

PostgreSQL's ``text`` cannot hold U+0000, and no UTF-8 store (PostgreSQL, SQLite's
text, the NDJSON segments) can hold a lone surrogate (U+D800–U+DFFF): a string
holding one is valid JSON but not valid Unicode text. One such string, once stored,
breaks later writes, so a record that carries one anywhere is refused at ingest.

Every batch reaches the validators as JSON bytes, where either character can only
appear escaped (RFC 8259 §7 forbids a raw control character inside a string, and a
surrogate's UTF-8 bytes are not valid UTF-8). So ``may_hold`` searches the bytes
once per batch, in C; only a batch it matches has its strings looked at one by one.

msgspec and orjson refuse to decode a lone surrogate at all, failing the whole body;
``loads_lenient`` (the standard library's parser, on that rare path only) reads it
so that the one record can be named and the others kept.

>>> may_hold(b'{"account_id": "acct-1"}'), may_hold(b'{"account_id": "a\\\\u0000"}')
(False, True)
>>> find({"tool_names": ["bash", "x\\ud800"]})
('tool_names', 'tool_names[1]: contains U+D800, which the store cannot keep')
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import msgspec
import orjson

RULE = "unstorable"
"""The rule's name in ``ItemError.rule`` and the rejection metric."""

# An escaped NUL or surrogate. A false match (``\\u0000``, an escaped backslash
# before the letters) only costs the slow path, which looks at the decoded strings.
_ESCAPED = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_SURROGATE_ESCAPED = re.compile(rb"\\u[dD][89a-fA-F]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def may_hold(raw: bytes) -> bool:
    """Whether the JSON ``raw`` may hold a NUL or a surrogate in some string."""
    # Most batches hold no backslash at all, which memchr finds out ten times
    # faster than the expression can.
    return b"\\" in raw and _ESCAPED.search(raw) is not None


def unstorable(text: str, chars: re.Pattern[str] = _UNSTORABLE) -> str | None:
    """``"contains U+XXXX"`` for the first character of ``text`` no store keeps, or None."""
    found = chars.search(text)
    return f"contains U+{ord(found.group()):04X}" if found else None


def message(where: str, problem: str) -> str:
    return f"{where}: {problem}, which the store cannot keep"


def find(fields: dict[str, Any], names: Iterable[str] | None = None) -> tuple[str, str] | None:
    """``(field, message)`` for the first string in ``fields`` (only ``names``, if
    given) that holds a character no store keeps, looking into lists and mappings."""
    for name in fields if names is None else names:
        value = fields.get(name)
        if value is None:
            continue
        problem = _in_value(value, name, _UNSTORABLE)
        if problem is not None:
            return name, message(*problem)
    return None


def find_surrogate(fields: dict[str, Any]) -> tuple[str, str] | None:
    """As ``find``, for lone surrogates alone: the characters a protobuf string, unlike
    a JSON one, cannot even carry."""
    for name, value in fields.items():
        problem = _in_value(value, name, _SURROGATE)
        if problem is not None:
            return name, message(*problem)
    return None


def find_in_struct(item: msgspec.Struct) -> tuple[str, str] | None:
    """As ``find``, over the fields of a decoded record or account."""
    for name in item.__struct_fields__:
        value = getattr(item, name)
        if value is None or value.__class__ in (int, float, bool):
            continue
        problem = _in_value(value, name, _UNSTORABLE)
        if problem is not None:
            return name, message(*problem)
    return None


def _in_value(value: Any, where: str, chars: re.Pattern[str]) -> tuple[str, str] | None:
    if isinstance(value, str):
        problem = unstorable(value, chars)
        return (where, problem) if problem else None
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _in_value(item, f"{where}[{index}]", chars)
            if found:
                return found
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = unstorable(key, chars) if isinstance(key, str) else None
            if problem:
                return f"{where} (a key)", problem
            # ascii(): the key is shown escaped, so the message itself stays storable.
            found = _in_value(item, f"{where}[{ascii(key)[:40]}]", chars)
            if found:
                return found
    return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads_lenient(raw: bytes) -> Any:
    """``raw`` parsed even if its strings hold lone surrogates, which orjson and
    msgspec refuse; ``ValueError`` (orjson's) for anything else not strict JSON."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if _SURROGATE_ESCAPED.search(raw) is None:
            raise
        try:
            return json.loads(raw, parse_constant=_no_constant)
        except ValueError:
            raise exc from None


def dumps_lenient(value: Any) -> bytes:
    """``value`` as JSON, lone surrogates escaped (orjson refuses to write them)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=True).encode()
