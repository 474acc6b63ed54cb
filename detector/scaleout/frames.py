"""Frames crossing Spark's Arrow boundary: narrow records, held windows, window aggregates.

Everything here is pure (frames in, frames out) and runs inside Spark's Python
workers: ``narrow_batch`` in ``mapInArrow``, ``aggregate_group`` in ``applyInArrow``.
Polars frames travel between them as Arrow IPC bytes (``to_ipc``/``from_ipc``), so
Spark moves one binary value per account and window instead of every record's columns
through pandas.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

import polars as pl
import pyarrow as pa

from detector.features.frames import RECORD_SCHEMA, narrow
from detector.features.windows import WindowAggregate, aggregate_window, with_key_hashes
from detector.pipeline.account_state import gateway_entities

# The four frames a window leaves behind, by name: the three of ``WindowAggregate``
# and the records per model, from which stage 2 works out the models first seen in
# the window and, once it knows which are new, ``new_model_records``.
PARTS = ("accounts", "keys", "minutes", "models")
MODELS_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.String(),
    "model": pl.String(),
    "records": pl.Int64(),
    "first": pl.Float64(),
}
# The key state recomputes these hashes (``with_key_hashes``): they are not stored.
_KEY_HASHES = ("_acct", "_tie", "_group", "_key")

# One row per window, part and bucket of accounts.
AGGREGATE_SCHEMA = pa.schema(
    [
        ("window_start", pa.float64()),
        ("part", pa.string()),
        ("rows", pa.int64()),
        ("payload", pa.binary()),
    ]
)


def to_ipc(frame: pl.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.write_ipc(out, compression="zstd")
    return out.getvalue()


def from_ipc(payload: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(payload))


def spark_arrow(table: pa.Table) -> pa.Table:
    """``table`` with the Arrow types Spark reads: polars writes large and view
    strings and lists, Spark's schema names the plain ones."""

    def plain(kind: pa.DataType) -> pa.DataType:
        if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
            return pa.string()
        if pa.types.is_large_binary(kind) or pa.types.is_binary_view(kind):
            return pa.binary()
        if pa.types.is_large_list(kind) or pa.types.is_list_view(kind):
            return pa.list_(plain(kind.value_type))
        return kind

    return table.cast(pa.schema([pa.field(f.name, plain(f.type)) for f in table.schema]))


def narrow_schema() -> pa.Schema:
    """The Arrow schema of ``narrow``'s frame, as Spark reads it."""
    return spark_arrow(narrow(pl.DataFrame(schema=RECORD_SCHEMA)).to_arrow()).schema


def narrow_batch(table: pa.Table, gateways: frozenset[str]) -> pa.Table:
    """Stored records (Spark read them with ``RECORD_SCHEMA``) to the narrow frame the
    engine holds, with the end users of ``gateways`` as entities (``AccountState.entities``)."""
    records = pl.from_arrow(table)
    assert isinstance(records, pl.DataFrame)
    records = records.select([pl.col(n).cast(t) for n, t in RECORD_SCHEMA.items()])
    return spark_arrow(gateway_entities(narrow(records), gateways).to_arrow())


def window_parts(frame: pl.DataFrame, *, start: float) -> dict[str, pl.DataFrame]:
    """The aggregate of one window's records (of any set of whole accounts), with no
    model counted new yet (stage 2 knows which are), and its records per model."""
    aggregate = aggregate_window(frame, start=start)
    models = (
        frame.filter(pl.col("model").is_not_null())
        .group_by("account_id", "model")
        .agg(pl.len().cast(pl.Int64).alias("records"), pl.col("ts").min().alias("first"))
    )
    return {
        "accounts": aggregate.accounts,
        "keys": aggregate.keys.drop(_KEY_HASHES),
        "minutes": aggregate.minutes,
        "models": models.select([pl.col(n).cast(t) for n, t in MODELS_SCHEMA.items()]),
    }


def aggregate_group(table: pa.Table) -> pa.Table:
    """``applyInArrow``'s function: held records of whole accounts (``payload``: a
    window's records of one account, from ``windower``) to their window aggregates.

    ``aggregate_window`` groups by account, so a group holding several accounts gives
    the rows each would give alone: groups are buckets of accounts, which spreads
    polars' cost per call over many of them."""
    held = pl.from_arrow(table)
    assert isinstance(held, pl.DataFrame)
    columns: dict[str, list[object]] = {name: [] for name in AGGREGATE_SCHEMA.names}
    for (start,), group in held.group_by("window_start", maintain_order=True):
        frame = pl.concat([from_ipc(payload) for payload in group["payload"]])
        for name, result in window_parts(frame, start=float(start)).items():
            columns["window_start"].append(float(start))
            columns["part"].append(name)
            columns["rows"].append(result.height)
            columns["payload"].append(to_ipc(result))
    return pa.Table.from_pydict(columns, schema=AGGREGATE_SCHEMA)


def concat_parts(payloads: Iterable[bytes]) -> pl.DataFrame:
    """The frames of one part of one window, from every bucket, as one."""
    return pl.concat([from_ipc(p) for p in payloads], how="vertical")


def window_aggregate(
    start: float, parts: dict[str, pl.DataFrame], new_models: frozenset[str]
) -> WindowAggregate:
    """The ``WindowAggregate`` the engine would have made of the whole window, from
    the parts of all its accounts, with ``new_model_records`` counted for
    ``new_models``: rows ordered as ``aggregate_window`` orders them."""
    models = parts["models"].filter(pl.col("model").is_in(list(new_models)))
    counted = models.group_by("account_id").agg(pl.col("records").sum().alias("_new"))
    accounts = parts["accounts"]
    accounts = (
        accounts.join(counted, on="account_id", how="left")
        .with_columns(pl.col("_new").fill_null(0).cast(pl.Int64).alias("new_model_records"))
        .select(accounts.columns)
        .sort("account_id")
    )
    keys = with_key_hashes(parts["keys"]).select(
        "account_id", "kind", "value", "records", "_acct", "_tie", "_group", "_key"
    )
    minutes = parts["minutes"].sort("account_id", "minute")
    return WindowAggregate(start=start, accounts=accounts, keys=keys, minutes=minutes)


def firsts(models: pl.DataFrame) -> list[tuple[str, float]]:
    """The models a window saw, with when each was first seen in it."""
    rows: Iterator[tuple[str, float]] = (
        models.group_by("model").agg(pl.col("first").min()).sort("model").iter_rows()
    )
    return [(model, float(first)) for model, first in rows]
