"""Stored NDJSON records to the narrow frame the pipeline works on."""

from __future__ import annotations

import hashlib
import io
import ipaddress

import polars as pl

from detector.features.capability import TOOL_KEY, capability_columns

# Only the fields the features use; polars skips the rest while parsing.
RECORD_SCHEMA: dict[str, pl.DataType] = {
    "ts_start": pl.Float64(),
    "account_id": pl.String(),
    "request_model": pl.String(),
    "org_id": pl.String(),
    "end_user_id": pl.String(),
    "api_key_id": pl.String(),
    "client_ip": pl.String(),
    "user_agent": pl.String(),
    "channel": pl.String(),
    "input_tokens": pl.Int64(),
    "output_tokens": pl.Int64(),
    "reasoning_output_tokens": pl.Int64(),
    "cache_read_input_tokens": pl.Int64(),
    "reasoning_mode": pl.String(),
    "tool_names": pl.List(pl.String()),
    "image_inputs": pl.Int64(),
    "system_fingerprint": pl.String(),
    "prompt_fingerprint": pl.String(),
    "template_fingerprint": pl.String(),
    "content_flags": pl.List(pl.String()),
    "status": pl.String(),
}


def read_records(ndjson: bytes | io.BytesIO) -> pl.DataFrame:
    """Parse NDJSON records into a frame with every column of ``RECORD_SCHEMA``."""
    source = io.BytesIO(ndjson) if isinstance(ndjson, bytes) else ndjson
    return pl.read_ndjson(source, schema=RECORD_SCHEMA)


def ip_prefix(address: str) -> str:
    """The network an address belongs to for linkage: /24 for IPv4, /48 for IPv6.

    >>> ip_prefix("203.0.113.77"), ip_prefix("2001:db8:1:2::5")
    ('203.0.113.0/24', '2001:db8:1::/48')
    """
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    bits = 24 if parsed.version == 4 else 48
    return str(ipaddress.ip_network(f"{parsed}/{bits}", strict=False))


def _prefixes(ips: pl.Series) -> pl.Series:
    # A segment repeats each address many times: rewrite the distinct ones and map
    # them back, rather than running the regex over every record.
    distinct = ips.unique().drop_nulls()
    if len(distinct) < len(ips) // 2:
        return ips.replace_strict(distinct, _distinct_prefixes(distinct), default=None)
    return _distinct_prefixes(ips)


def _distinct_prefixes(ips: pl.Series) -> pl.Series:
    v4 = ips.str.replace(r"^(\d+\.\d+\.\d+)\.\d+$", "$1.0/24")
    # IPv6 is rare and has many spellings: parse just its distinct values.
    v6 = ips.filter(ips.str.contains(":")).unique().to_list()
    if not v6:
        return v4
    mapping = {value: ip_prefix(value) for value in v6 if value is not None}
    return v4.replace(mapping)


def tool_schema_keys(tool_names: pl.Series) -> pl.Series:
    """Each record's tool schema key: its tool names sorted and joined with commas.

    Records repeat a handful of schemas, so the names are joined as they come (cheap,
    vectorised) and only the distinct joined values are sorted, in Python: polars'
    per-row list sort costs ~15 µs a record, the bulk of reading a segment. The
    unsorted names are joined with the unit separator, which tool names do not
    contain (if one does, the per-row sort is used).
    """
    joined = tool_names.list.join("\x1f")
    # A name holding the separator shows as more separators than the list has gaps:
    # counted on the joined strings, which exploding the lists would copy first.
    gaps = (tool_names.list.len() - 1).clip(0, None)
    if (joined.str.count_matches("\x1f", literal=True) != gaps).any():
        return tool_names.list.sort().list.join(",")
    keys = {
        value: ",".join(sorted(value.split("\x1f")))
        for value in joined.unique().drop_nulls().to_list()
    }
    return joined.replace_strict(keys, default=None, return_dtype=pl.String)


# Between an account and one of its end users in the id of the end user as an entity
# of its own: "gateway-7 › user-1234".
END_USER = " › "


# The longest entity id the store keeps (``case_accounts.account_id``).
MAX_ENTITY_CHARS = 1024


def principal(account: str, end_user: str | None) -> str:
    """The entity an end user of a declared gateway is counted as: the end user
    inside its account. An id too long for the store names the end user by a
    digest of it, stable across versions and processes.

    >>> principal("gateway-7", "user-1234"), principal("acct-1", None)
    ('gateway-7 › user-1234', 'acct-1')
    """
    if end_user is None:
        return account
    whole = f"{account}{END_USER}{end_user}"
    if len(whole) <= MAX_ENTITY_CHARS:
        return whole
    digest = hashlib.sha256(whole.encode()).hexdigest()[:32]
    return f"{account[: MAX_ENTITY_CHARS - 40]}{END_USER}#{digest}"


def narrow(records: pl.DataFrame) -> pl.DataFrame:
    """The per-record columns the window aggregates need, capabilities included.

    Tool schemas are keyed by the sorted set of tool names, so the same tools offered
    in another order count as one schema.

    ``end_user`` and ``api_key`` are kept for the engine, which counts the end users
    of a declared gateway as entities of their own (``Engine.add``, ``principal``).
    """
    tools = tool_schema_keys(records["tool_names"])
    records = records.with_columns(pl.Series(TOOL_KEY, tools))
    # Lazily, so that polars computes each capability once: ``cap_chat`` repeats the
    # others' expressions, which an eager select evaluates twice (0.83 → 0.62 CPU-µs
    # a record for this step, on 1.5M stored records).
    return (
        records.lazy()
        .select(
            pl.col("ts_start").alias("ts"),
            "account_id",
            pl.col("request_model").alias("model"),
            "org_id",
            pl.Series("ip_prefix", _prefixes(records["client_ip"])),
            pl.col("end_user_id").alias("end_user"),
            pl.col("api_key_id").alias("api_key"),
            "user_agent",
            pl.col("channel").fill_null("api"),
            pl.col("input_tokens").fill_null(0),
            pl.col("output_tokens").fill_null(0),
            pl.col("cache_read_input_tokens").fill_null(0).alias("cache_read_tokens"),
            pl.col("system_fingerprint").alias("system_fp"),
            pl.col("prompt_fingerprint").alias("prompt_fp"),
            pl.col("template_fingerprint").alias("template_fp"),
            pl.col(TOOL_KEY).replace("", None),
            (pl.col("status") == "error").fill_null(False).alias("error"),
            *capability_columns(),
        )
        .collect()
    )
