"""Decoding a batch: a fast path for clean batches, a per-item path that names errors.

A clean batch is decoded in one msgspec call, which checks types and bounds in C.
Only when that fails is the batch decoded item by item, so that valid items are kept
and each invalid one is reported with its index, its field and the rule it broke.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Generic, TypeVar

import msgspec
import numpy as np
import orjson

from detector.errors import BadBatchError, PayloadTooLargeError
from detector.ingest import storable
from detector.ingest.body import Media, as_json_array, ndjson_lines

T = TypeVar("T", bound=msgspec.Struct)

# msgspec ends a message with "- at `$.field[0]`", or "- at `key` in `$.field`"
# when a mapping key broke the rule.
_AT = re.compile(r" - at (?P<key>`key` in )?`\$(?P<path>[^`]*)`$")
_MISSING = re.compile(r"Object missing required field `(?P<name>[^`]+)`")
_TOP = re.compile(r"^\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)")
_BOM = b"\xef\xbb\xbf"
_NL, _CR, _OPEN, _CLOSE = b"\n\r{}"
_ENUM = re.compile(r"^Invalid enum value (?P<value>.*)$")
_TOO_DEEP = "record: nested deeper than the parser's limit; a record is a flat object"


@dataclass(frozen=True, slots=True)
class ItemError:
    """One rejected item: where it was in the batch, which field, which rule.

    ``rule`` is a short name for the metric of rejections (``unstorable``, ``future``,
    ``invalid`` for every other rule); the message says the rule in words.
    """

    index: int
    field: str
    message: str
    rule: str = "invalid"


@dataclass(slots=True)
class Decoded(Generic[T]):
    """Valid items with their index in the batch, and the errors of the others."""

    items: list[T] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.items) + len(self.errors)

    def reject(self, keep: Sequence[bool], errors: Sequence[ItemError]) -> None:
        """Drop the items whose ``keep`` flag is false, recording their errors."""
        self.items = [item for item, ok in zip(self.items, keep, strict=True) if ok]
        self.positions = [pos for pos, ok in zip(self.positions, keep, strict=True) if ok]
        self.errors = sorted([*self.errors, *errors], key=lambda e: e.index)


@lru_cache(maxsize=16)
def _decoders(item_type: type[T]) -> tuple[msgspec.json.Decoder[Any], ...]:
    wrapper = msgspec.defstruct("Batch", [("records", list[item_type])])  # type: ignore[valid-type]
    raw_wrapper = msgspec.defstruct("RawBatch", [("records", list[msgspec.Raw])])
    return (
        msgspec.json.Decoder(list[item_type]),  # type: ignore[valid-type]
        msgspec.json.Decoder(wrapper),
        msgspec.json.Decoder(item_type),
        msgspec.json.Decoder(list[msgspec.Raw]),
        msgspec.json.Decoder(raw_wrapper),
    )


def decode_batch(
    body: bytes,
    media: Media,
    item_type: type[T],
    *,
    max_items: int,
    choices: Mapping[str, Sequence[str]] | None = None,
) -> Decoded[T]:
    """Decode ``body`` into items of ``item_type``, keeping every valid one."""
    try:
        return _decode_batch(body, media, item_type, max_items, choices or {})
    except RecursionError:
        # msgspec and orjson stop at a fixed depth; a body nested that deep is hostile,
        # not a batch with one bad record.
        raise BadBatchError(
            "body: JSON nested deeper than the parser's limit; records are flat objects"
        ) from None


def _decode_batch(
    body: bytes,
    media: Media,
    item_type: type[T],
    max_items: int,
    choices: Mapping[str, Sequence[str]],
) -> Decoded[T]:
    many, wrapped, one, raw_many, raw_wrapped = _decoders(item_type)
    if body.startswith(_BOM):
        # Windows tools often write one; RFC 8259 §8.1 lets a parser ignore it.
        body = body[len(_BOM) :]
    if media == "ndjson":
        plain = _object_lines(body)
        if plain is not None and plain <= max_items:
            try:
                items = one.decode_lines(body)
            except (msgspec.ValidationError, msgspec.DecodeError):
                items = None
            if items is not None and len(items) == plain:
                return _all_valid(items)
        lines = ndjson_lines(body)
        _check_count(len(lines), max_items)
        try:
            items = many.decode(as_json_array(lines))
        except (msgspec.ValidationError, msgspec.DecodeError):
            return _one_by_one(lines, one, choices)
        if len(items) != len(lines):
            # A line held several values ("{...} {...}"): not NDJSON, and it would
            # slip past the count limit. Line by line, such a line is an error.
            return _one_by_one(lines, one, choices)
        return _all_valid(items)
    head = body.lstrip()[:1]
    try:
        if head == b"[":
            items = many.decode(body)
        elif head == b"{":
            items = wrapped.decode(body).records
        else:
            raise BadBatchError("body: expected a JSON array or an object with 'records'")
        _check_count(len(items), max_items)
        return _all_valid(items)
    except msgspec.DecodeError as exc:
        if isinstance(exc, msgspec.ValidationError):
            raws = _raw_items(body, head, raw_many, raw_wrapped)
        else:
            lenient = _lenient_items(body, head)
            if lenient is None:
                raise BadBatchError(f"body: not valid JSON ({exc})") from None
            raws = lenient
        _check_count(len(raws), max_items)
        return _one_by_one(raws, one, choices)


def _object_lines(body: bytes) -> int | None:
    """The number of lines of an NDJSON body whose every line is one ``{...}`` with
    nothing around it, or None when the body is not that plain.

    Such a body decodes in one call, without being split into lines and joined
    again. Every newline but a final one must sit in ``}\\n{`` (or ``}\\r\\n{``): a
    JSON value cannot hold that sequence (a string holds no raw newline, and two
    elements in a container are separated by a comma), so no line is blank and no
    value spans two lines. A line holding two objects still shows as more items
    than lines.
    """
    if not body.startswith(b"{"):
        return None
    if body.endswith(b"}"):
        stop = len(body)
    elif body.endswith(b"}\n"):
        stop = len(body) - 1
    elif body.endswith(b"}\r\n"):
        stop = len(body) - 2
    else:
        return None
    # The newlines are found and their neighbours checked in numpy: two passes of
    # bytes.count over a 3 MB batch cost more than a tenth of decoding it.
    data = np.frombuffer(body, np.uint8, count=stop)
    newlines = np.flatnonzero(data == _NL)
    # ``data`` starts and ends with a brace, so every neighbour read is inside it
    # (a wrapped index at -1 only meets a test that has already failed).
    before = data[newlines - 1]
    plain = (data[newlines + 1] == _OPEN) & (
        (before == _CLOSE) | ((before == _CR) & (data[newlines - 2] == _CLOSE))
    )
    return len(newlines) + 1 if bool(plain.all()) else None


def _raw_items(
    body: bytes,
    head: bytes,
    raw_many: msgspec.json.Decoder[Any],
    raw_wrapped: msgspec.json.Decoder[Any],
) -> list[bytes]:
    try:
        if head == b"[":
            return [bytes(raw) for raw in raw_many.decode(body)]
        return [bytes(raw) for raw in raw_wrapped.decode(body).records]
    except msgspec.ValidationError:
        # An object without a "records" array is taken as one item.
        return [body]
    except msgspec.DecodeError as exc:
        # The typed decode stops at the first invalid item, before it sees that
        # the JSON itself is broken further on (trailing bytes, say).
        raise BadBatchError(f"body: not valid JSON ({exc})") from None


def _lenient_items(body: bytes, head: bytes) -> list[bytes] | None:
    """The items of a body msgspec refused to parse because some string holds a lone
    surrogate, each as JSON bytes of its own; None if the body is not JSON at all."""
    if not storable.may_hold(body):
        return None
    try:
        document = storable.loads_lenient(body)
    except ValueError:
        return None
    if isinstance(document, dict) and isinstance(document.get("records"), list):
        items = document["records"]
    elif head == b"[" and isinstance(document, list):
        items = document
    else:
        items = [document]
    return [storable.dumps_lenient(item) for item in items]


def _check_count(count: int, max_items: int) -> None:
    if count > max_items:
        raise PayloadTooLargeError(
            f"records: {count} in one batch is over the limit of {max_items}; split the batch"
        )


def _all_valid(items: list[T]) -> Decoded[T]:
    return Decoded(items=items, positions=list(range(len(items))))


def _one_by_one(
    raws: Sequence[bytes], one: msgspec.json.Decoder[Any], choices: Mapping[str, Sequence[str]]
) -> Decoded[T]:
    decoded: Decoded[T] = Decoded()
    for index, raw in enumerate(raws):
        try:
            decoded.items.append(one.decode(raw))
            decoded.positions.append(index)
        except msgspec.ValidationError as exc:
            decoded.errors.append(item_error(index, str(exc), raw, choices))
        except RecursionError:
            decoded.errors.append(ItemError(index, "record", _TOO_DEEP))
        except msgspec.DecodeError as exc:
            outcome = _lenient_item(index, raw, one, choices)
            if outcome is None:
                decoded.errors.append(ItemError(index, "record", f"record: not valid JSON ({exc})"))
            elif isinstance(outcome, ItemError):
                decoded.errors.append(outcome)
            else:
                decoded.items.append(outcome)
                decoded.positions.append(index)
    return decoded


def _lenient_item(
    index: int, raw: bytes, one: msgspec.json.Decoder[Any], choices: Mapping[str, Sequence[str]]
) -> Any:
    """An item msgspec cannot parse because it holds a lone surrogate: the error that
    names the field holding it, or the item itself when that field is not one of the
    item's (unknown fields are ignored); None when ``raw`` is not JSON at all."""
    if not storable.may_hold(raw):
        return None
    try:
        value = storable.loads_lenient(raw)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    names = one.type.__struct_fields__
    found = storable.find(value, names)
    if found is not None:
        return ItemError(index, found[0], found[1], storable.RULE)
    known = orjson.dumps({name: value[name] for name in names if name in value})
    try:
        return one.decode(known)
    except msgspec.ValidationError as exc:
        return item_error(index, str(exc), known, choices)
    except msgspec.DecodeError:
        return None


def item_error(
    index: int, text: str, raw: bytes, choices: Mapping[str, Sequence[str]]
) -> ItemError:
    """Rephrase a msgspec validation message so that it names the field, value and rule."""
    missing = _MISSING.search(text)
    if missing:
        name = missing["name"]
        return ItemError(index, name, f"{name}: required field is missing")
    at = _AT.search(text)
    path = at["path"] if at else ""
    rule = text[: at.start()] if at else text
    top = _TOP.match(path)
    name = top["name"] if top else "record"
    where = path.lstrip(".") or "record"
    if at and at["key"]:
        where += " (a key)"
    enum = _ENUM.match(rule)
    if enum and name in choices:
        allowed = ", ".join(choices[name])
        return ItemError(index, name, f"{where}: {enum['value']} must be one of {allowed}")
    rule = rule.replace("Expected ", "must be ").replace("`", "")
    value = _value_at(raw, name) if top else None
    shown = f" {value}" if value is not None else ""
    return ItemError(index, name, f"{where}:{shown} {rule}")


def _value_at(raw: bytes, name: str) -> str | None:
    """The JSON text of field ``name`` in ``raw``, cut short, or None."""
    try:
        obj = orjson.loads(raw)
        if not isinstance(obj, dict) or name not in obj:
            return None
        # orjson writes at most 254 levels: a value nested deeper is not shown.
        text = orjson.dumps(obj[name]).decode()
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return None
    return text if len(text) <= 60 else text[:57] + "..."
