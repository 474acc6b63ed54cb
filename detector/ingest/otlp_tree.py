"""The spans of one export request as trees: what a span inherits, which spans are one call.

Two things only the tree tells:

- **Inheritance.** The caller is often named on the application's request span
  (``enduser.id``, ``client.address``, ``user_agent.original``) or on an agent's run,
  not on the model call under it. A model call takes the identity attributes
  (``conventions.INHERITED``, and ``detector.<field>`` for the identity fields) of its
  ancestors in the same request, the nearest first, then of its resource; its own win.
- **One call, two spans.** Two instrumentations of one call (OpenLLMetry's span and
  the Anthropic SDK's own; LiteLLM's and the OpenAI SDK's) give two GenAI spans.
  They are one call when they carry the same ``gen_ai.response.id``, or when one is
  nested inside the other in the same trace (a model call never contains another).

Pure functions over ``SpanView`` lists; ids are compared within one request only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from detector.ingest.conventions import INHERITED, INHERITED_FIELDS
from detector.ingest.otlp import SpanView

Key = tuple[str, str]
DETECTOR = "detector."


def key_of(span: SpanView) -> Key:
    return (span.trace_id, span.span_id)


def ancestors(span: SpanView, by_key: dict[Key, SpanView]) -> Iterator[SpanView]:
    """The span's ancestors present in the request, nearest first; bounded against cycles."""
    parent = span.parent_span_id
    for _ in range(len(by_key)):
        found = by_key.get((span.trace_id, parent)) if parent else None
        if found is None:
            return
        yield found
        parent = found.parent_span_id


def inherited(span: SpanView, by_key: dict[Key, SpanView]) -> list[dict[str, Any]]:
    """The identity attributes of each ancestor of the span, the nearest first."""
    layers = []
    for ancestor in ancestors(span, by_key):
        taken = {
            name: value
            for name, value in ancestor.attributes.items()
            if value not in (None, "")
            and (
                name in INHERITED
                or (name.startswith(DETECTOR) and name.removeprefix(DETECTOR) in INHERITED_FIELDS)
            )
        }
        if taken:
            layers.append(taken)
    return layers


class Calls:
    """Union-find over the indices of the spans that are model calls."""

    def __init__(self, indices: Sequence[int]) -> None:
        self._parent = {i: i for i in indices}

    def find(self, index: int) -> int:
        root = index
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[index] != root:
            self._parent[index], index = root, self._parent[index]
        return root

    def join(self, a: int, b: int) -> None:
        # The smaller index stays the root, so the first span of a call leads it.
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for index in self._parent:
            out.setdefault(self.find(index), []).append(index)
        return out


def same_calls(
    spans: Sequence[SpanView], calls: Sequence[int], response_ids: dict[int, str]
) -> dict[int, list[int]]:
    """Model-call spans grouped by the call they record: root index -> member indices."""
    groups = Calls(calls)
    by_key = {key_of(span): span for span in spans}
    index_of = {key_of(spans[i]): i for i in calls}
    first_with: dict[str, int] = {}
    for index in calls:
        response = response_ids.get(index)
        if response:
            groups.join(first_with.setdefault(response, index), index)
        for ancestor in ancestors(spans[index], by_key):
            outer = index_of.get(key_of(ancestor))
            if outer is not None:
                groups.join(outer, index)
                break
    return groups.groups()
