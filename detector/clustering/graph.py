"""Connected components of a bipartite graph given as a frame of edges, the one
graph step that linkage, the split and the join share."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def bipartite_labels(
    items: pl.Series, edges: pl.DataFrame, *, item: str, node: str
) -> pl.DataFrame:
    """Every distinct value of ``items`` (column ``item``, sorted) with ``label``: an
    integer shared by the items that ``edges`` connect, each edge joining
    ``edges[item]`` to ``edges[node]``. An item on no edge has a label of its own.

    >>> edges = pl.DataFrame({"a": ["x", "y", "z"], "n": [1, 1, 2]})
    >>> found = bipartite_labels(pl.Series(["x", "y", "z", "w"]), edges, item="a", node="n")
    >>> found["label"].to_list()
    [0, 1, 1, 2]
    """
    items = items.unique().sort()
    nodes = edges[node].unique().sort()
    item_index = pl.DataFrame({item: items, "_i": np.arange(len(items))})
    node_index = pl.DataFrame({node: nodes, "_n": np.arange(len(nodes)) + len(items)})
    pairs = edges.join(item_index, on=item).join(node_index, on=node)
    size = len(items) + len(nodes)
    graph = coo_matrix(
        (np.ones(len(pairs), dtype=np.int8), (pairs["_i"].to_numpy(), pairs["_n"].to_numpy())),
        shape=(size, size),
    )
    _, labels = connected_components(graph, directed=False)
    return pl.DataFrame({item: items, "label": labels[: len(items)]})
