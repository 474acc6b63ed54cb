"""A synth run's truth as the engine counts entities, for ``detector evaluate``.

The engine counts the end users of a declared gateway or reseller as entities of
their own (``EngineConfig.gateway_programs``, ``principal``), so a case lists
"account › end user" where the truth file lists accounts. Here both sides are put
in the engine's terms:

- a record's entity is ``principal(account_id, end_user_id)`` if its account's
  sign-up program declares it a gateway and it names an end user, else its account;
- a truth row's entity is its account, or, for a campaign account hidden behind a
  reseller (synth's ``via_account_id`` and ``end_user_id`` columns), the principal of
  the end user it appears as;
- an entity that sent traffic but has no truth row of its own (an end user of an
  honest reseller) takes the label of the account it calls through, and that
  account's kind with ``_end_user`` after it.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from detector.features.frames import principal

ENTITY = "account_id"  # the entity's id, in the column cases and truth are joined on


def gateway_accounts(accounts: pl.DataFrame, programs: Iterable[str]) -> list[str]:
    """Accounts whose sign-up program declares them a gateway."""
    if "program" not in accounts.columns:
        return []
    return accounts.filter(pl.col("program").is_in(list(programs)))["account_id"].to_list()


def with_entity(records: pl.DataFrame, gateways: list[str]) -> pl.DataFrame:
    """``records`` (``account_id``, ``end_user_id``) with ``entity``: the principal the
    engine counts each record under."""
    behind = pl.col("account_id").is_in(gateways) & pl.col("end_user_id").is_not_null()
    pairs = records.filter(behind).select("account_id", "end_user_id").unique()
    names = pl.DataFrame(
        {
            "account_id": pairs["account_id"],
            "end_user_id": pairs["end_user_id"],
            "entity": [principal(a, u) for a, u in pairs.iter_rows()],
        },
        schema={"account_id": pl.String, "end_user_id": pl.String, "entity": pl.String},
    )
    return records.join(names, on=["account_id", "end_user_id"], how="left").with_columns(
        pl.coalesce("entity", "account_id").alias("entity")
    )


def truth_entities(truth: pl.DataFrame) -> pl.DataFrame:
    """``truth`` with ``account_id`` replaced by the entity each row is counted as."""
    if "via_account_id" not in truth.columns:
        return truth
    names = [
        principal(v, u) if v is not None else a
        for a, v, u in truth.select("account_id", "via_account_id", "end_user_id").iter_rows()
    ]
    return truth.with_columns(pl.Series(ENTITY, names, dtype=pl.String))


def active_truth(truth: pl.DataFrame, traffic: pl.DataFrame) -> pl.DataFrame:
    """``account_id`` (the entity), ``label`` and ``kind`` of every entity in
    ``traffic`` (distinct ``entity`` and ``account_id``, from ``with_entity``)."""
    known = truth_entities(truth).select(ENTITY, "label", "kind")
    seen = traffic.select("entity", "account_id").unique()
    listed = known.join(seen.select(pl.col("entity").alias(ENTITY)).unique(), on=ENTITY, how="semi")
    # End users of honest gateways: the label of the account they call through.
    unlisted = (
        seen.join(known, left_on="entity", right_on=ENTITY, how="anti")
        .join(known.rename({ENTITY: "account_id"}), on="account_id", how="inner")
        .select(
            pl.col("entity").alias(ENTITY),
            "label",
            (pl.col("kind") + "_end_user").alias("kind"),
        )
    )
    return pl.concat([listed, unlisted]).unique(ENTITY, keep="first", maintain_order=True)
