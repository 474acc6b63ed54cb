"""Link accounts that share infrastructure into connected components.

An account's keys are the values it uses (an IP prefix with a client string, a
payment instrument, a sign-up burst, a template from one network, a template under
one system prompt). A key value
links every account that has it, unless it is a *hub*: a value shared by so large a
part of the active population that it says nothing about coordination (a carrier
NAT, the default string of a popular SDK). Weak kinds (a client string alone, a
system prompt alone) never link on their own; they link only as part of a composite
key, where two weak values together are rare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from detector.clustering.graph import bipartite_labels
from detector.features.frames import END_USER
from detector.features.windows import KIND, VALUE_HASH, with_match_hashes

# Kinds whose values link accounts by themselves.
LINKING_KINDS: tuple[str, ...] = ("pay", "signup", "ipua", "iptmpl", "systmpl", "gwsys")
# A template links only where an account uses it repeatedly, not on one request.
MIN_TEMPLATE_RECORDS = 3


@dataclass(frozen=True, slots=True)
class LinkageConfig:
    """Hub limits: a value shared by more than ``hub_share`` of the active accounts
    (and more than ``hub_min`` of them) does not link.

    The limit is high on purpose: a hydra network puts thousands of accounts behind
    the same few exits with the same client, a few per cent of all active accounts
    at scale 1.0. Strangers that a moderately common value does glue together are
    separated again by ``coherence.prune``, which keeps only accounts that also run
    the same scaffolding or share a payment instrument.
    """

    hub_share: float = 0.2
    hub_min: int = 100


def account_meta_keys(accounts: pl.DataFrame) -> pl.DataFrame:
    """Keys from sign-up metadata: the payment instrument, and the sign-up burst.

    A burst key is the programme, e-mail domain, sign-up /24 and calendar day, so
    accounts opened the same day through the same path from the same network share it.
    """
    burst = pl.concat_str(
        [
            pl.col("program").fill_null("-"),
            pl.col("email_domain").fill_null("-"),
            pl.col("signup_ip").fill_null("-").str.replace(r"\.\d+$", ".0/24"),
            (pl.col("created_at") // 86_400).cast(pl.Int64).cast(pl.String),
        ],
        separator=" | ",
    )
    pay = accounts.select(
        "account_id",
        pl.lit("pay", KIND).alias("kind"),
        pl.col("payment_fingerprint").alias("value"),
    ).drop_nulls("value")
    signup = accounts.filter(pl.col("signup_ip").is_not_null()).select(
        "account_id", pl.lit("signup", KIND).alias("kind"), burst.alias("value")
    )
    return pl.concat([pay, signup]).with_columns(pl.lit(1, pl.Int64).alias("records"))


def gateway_keys(keys: pl.DataFrame, *, max_share: float = 0.5) -> pl.DataFrame:
    """Composite keys (kind ``gwsys``) that link the end users of one gateway who run
    a system prompt nobody outside that gateway runs.

    A gateway's end users have no card, network or sign-up of their own (the
    gateway's are every end user's), so without this only repeated templates link
    them, and a campaign that cycles through many templates behind a reseller would
    never be a cluster. A system prompt alone does not link ordinary accounts (a
    framework's users share one); here it is a prompt private to one gateway's
    customers, held from ``MIN_TEMPLATE_RECORDS`` records, so a popular prompt that
    ordinary accounts run too links nothing, and run by at most ``max_share`` of that
    gateway's end users: the prompt most of them run is the gateway's own product
    (a reseller's assistant), which an operation among its customers may run too.
    ``keys`` carries ``_acct``.
    """
    behind = pl.col("account_id").str.contains(END_USER, literal=True)
    gateway = pl.col("account_id").str.split(END_USER).list.first()
    prompts = keys.filter(pl.col("kind") == "sys").with_columns(
        pl.when(behind).then(gateway).otherwise(pl.col("account_id")).alias("_owner")
    )
    end_users = (
        keys.filter(behind)
        .group_by(gateway.alias("_owner"))
        .agg(pl.col("_acct").n_unique().alias("end_users"))
    )
    private = (
        prompts.group_by("value")
        .agg(
            pl.col("_owner").n_unique().alias("owners"),
            pl.col("_owner").first(),
            pl.col("_acct").filter(behind).n_unique().alias("holders"),
        )
        .filter(pl.col("owners") == 1)
        .join(end_users, on="_owner")
        .filter(pl.col("holders") <= max_share * pl.col("end_users"))
        .select("value")
    )
    return (
        prompts.filter(behind & (pl.col("records") >= MIN_TEMPLATE_RECORDS))
        .join(private, on="value", how="semi")
        .select(
            "account_id",
            pl.lit("gwsys").cast(KIND).alias("kind"),
            pl.concat_str(["_owner", "value"], separator="\x1f").alias("value"),
            "records",
            "_acct",
        )
        .with_columns(VALUE_HASH)
    )


def key_weights(keys: pl.DataFrame, population: int, config: LinkageConfig) -> pl.DataFrame:
    """Per linking value: how many accounts share it, an IDF-like weight in 0–1
    (1 for a value few share, falling to 0 at the hub limit) and whether it links."""
    hub = _hub(population, config)
    return (
        keys.filter(pl.col("kind").is_in(LINKING_KINDS))
        .group_by("kind", "value")
        .agg(pl.col("account_id").n_unique().alias("accounts"))
        .with_columns(
            (1 - (pl.col("accounts").log() / np.log(hub))).clip(0.0, 1.0).alias("idf"),
            ((pl.col("accounts") >= 2) & (pl.col("accounts") <= hub)).alias("links"),
        )
        .sort("kind", "value")
    )


def _hub(population: int, config: LinkageConfig) -> int:
    return max(config.hub_min, int(config.hub_share * population))


def components(keys: pl.DataFrame, population: int, config: LinkageConfig) -> pl.DataFrame:
    """``(account_id, component)`` for every account linked to at least one other.

    Component labels are the smallest account id of the component, so they do not
    depend on the order rows arrived in.
    """
    hub = _hub(population, config)
    # Each (kind, value) is a node of the graph and each account an end of its edges,
    # both named by 64-bit hashes (``with_match_hashes``): grouping and joining the
    # strings of every key row every tick costs several times more, and two values or
    # accounts that share a hash (once in ~10^8 ticks) would only add one link.
    keyed = (
        with_match_hashes(keys)
        .filter(
            pl.col("kind").is_in(LINKING_KINDS)
            & ((pl.col("kind") != "systmpl") | (pl.col("records") >= MIN_TEMPLATE_RECORDS))
        )
        .select("_acct", "account_id", pl.struct("kind", "_tie").hash().alias("node"))
    )
    linking = (
        keyed.group_by("node")
        .agg(pl.col("_acct").n_unique().alias("accounts"))
        .filter((pl.col("accounts") >= 2) & (pl.col("accounts") <= hub))
    )
    edges = keyed.join(linking.select("node"), on="node", how="semi")
    if edges.is_empty():
        return pl.DataFrame(schema={"account_id": pl.String(), "component": pl.String()})
    frame = bipartite_labels(edges["_acct"], edges, item="_acct", node="node")
    names = edges.select("_acct", "account_id").unique("_acct")
    frame = frame.join(names, on="_acct")
    return (
        frame.with_columns(pl.col("account_id").min().over("label").alias("component"))
        .filter(pl.len().over("label") >= 2)
        .select("account_id", "component")
        .sort("account_id")
    )
