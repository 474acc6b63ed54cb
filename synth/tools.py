"""Tool schemas: the popular ones of the catalogue plus private ones (seeded Faker).

Every row that offers tools names one schema by number; the names are laid out so
that an Arrow list column of a day's rows is built with a few numpy gathers.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from faker import Faker

from synth.catalogue import POPULAR_TOOL_SETS
from synth.ids import encoded

PRIVATE_TOOL_SETS = 400
_PRIVATE_SEED = 4242  # fixed: schema names are part of the catalogue, not of a run


@lru_cache(maxsize=1)
def tool_sets() -> tuple[tuple[str, ...], ...]:
    """Popular schemas first, then private ones made of an app's own verbs and nouns."""
    fake = Faker()
    fake.seed_instance(_PRIVATE_SEED)
    private = []
    for _ in range(PRIVATE_TOOL_SETS):
        size = int(fake.random_int(1, 6))
        names = {f"{fake.word()}_{fake.word()}" for _ in range(size)}
        private.append(tuple(sorted(names)))
    return POPULAR_TOOL_SETS + tuple(private)


class ListColumn:
    """Builds an Arrow ``list<string>`` column from per-row indices into fixed lists."""

    def __init__(self, lists: tuple[tuple[str, ...], ...]) -> None:
        vocabulary = sorted({name for names in lists for name in names})
        index = {name: i for i, name in enumerate(vocabulary)}
        self.lists = lists
        self.vocabulary = pa.array(vocabulary, type=pa.string())
        self.lengths = np.array([len(names) for names in lists], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        self.flat = np.array([index[name] for names in lists for name in names], dtype=np.int64)

    def build(self, rows: npt.NDArray[np.integer]) -> pa.ListArray:
        """One list per row (of dictionary-encoded strings); negative indices are null."""
        present = rows >= 0
        safe = np.where(present, rows, 0)
        lengths = np.where(present, self.lengths[safe], 0)
        offsets = np.zeros(len(rows) + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        total = int(offsets[-1])
        within = np.arange(total, dtype=np.int64) - np.repeat(
            offsets[:-1].astype(np.int64), lengths
        )
        positions = np.repeat(self.starts[safe], lengths) + within
        values = encoded(self.vocabulary, self.flat[positions])
        return pa.ListArray.from_arrays(pa.array(offsets), values, mask=pa.array(~present))
