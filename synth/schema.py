"""Arrow schemas of the output files, derived from the detector's own schema types.

The Parquet columns are the fields of ``detector.schema.Record`` and ``Account`` in
declaration order, typed from their msgspec annotations, so that a field added to
the contract shows up here (or fails loudly) without anyone editing synth.
Timestamps are written in their stored form, epoch seconds as float64.
"""

from __future__ import annotations

from typing import Any

import msgspec
import msgspec.inspect as mi
import pyarrow as pa

from detector.schema import Account, Record

# Fields synth never sets; leaving them out keeps the NDJSON written from Parquet
# canonical (an Arrow map would come back as a list of key/value pairs).
UNUSED_FIELDS = frozenset({"attributes"})


def _arrow_type(info: mi.Type, name: str) -> pa.DataType:
    if isinstance(info, mi.UnionType):
        # Optional fields; "epoch seconds or RFC 3339 text" is written as epoch seconds.
        kinds = [t for t in info.types if not isinstance(t, mi.NoneType)]
        floats = [t for t in kinds if isinstance(t, mi.FloatType)]
        return _arrow_type(floats[0] if floats else kinds[0], name)
    if isinstance(info, mi.StrType | mi.LiteralType):
        return pa.string()
    if isinstance(info, mi.FloatType):
        return pa.float64()
    if isinstance(info, mi.BoolType):
        return pa.bool_()
    if isinstance(info, mi.IntType):
        return pa.int64()
    if isinstance(info, mi.ListType):
        return pa.list_(_arrow_type(info.item_type, name))
    raise TypeError(f"{name}: no Arrow type for {type(info).__name__}")


def arrow_schema(struct: type[msgspec.Struct]) -> pa.Schema:
    """The Arrow schema of ``struct``'s fields, minus ``UNUSED_FIELDS``."""
    info: Any = mi.type_info(struct)
    fields = []
    for field in info.fields:
        if field.name in UNUSED_FIELDS:
            continue
        nullable = not field.required
        fields.append(pa.field(field.name, _arrow_type(field.type, field.name), nullable))
    return pa.schema(fields)


RECORD_SCHEMA = arrow_schema(Record)
ACCOUNT_SCHEMA = arrow_schema(Account)
