"""The running account and key state: per-account sums, the keys each account uses,
records per account and day, and the accounts' sign-up metadata.

Owned by the caller's thread (``pipeline.threads``); a tick's analysis reads the
frames as they were when the tick was merged (polars frames are never changed in
place, so holding one is holding that state).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from detector.clustering.linkage import account_meta_keys
from detector.features.frames import principal
from detector.features.key_state import KeyState, empty_keys, merge_keys
from detector.features.state import empty_accounts, merge_accounts
from detector.features.windows import (
    ACCOUNT_HASH,
    WindowAggregate,
    with_key_hashes,
    with_match_hashes,
)
from detector.pipeline.config import DAILY_SCHEMA, DAY, META_SCHEMA, EngineConfig
from detector.pipeline.snapshot import Reader, Writer
from detector.scoring.cluster_features import with_card_owners

# The key columns stored: the hashes are computed again from them (``restore``).
_KEY_COLUMNS = ("account_id", "kind", "value", "records", "last_seen")


def signup_keys(meta: pl.DataFrame) -> pl.DataFrame:
    """Every account's keys from sign-up metadata (``account_meta_keys``), with the
    match hashes linkage groups on."""
    return with_match_hashes(account_meta_keys(meta))


def gateway_entities(records: pl.DataFrame, gateways: frozenset[str]) -> pl.DataFrame:
    """``records`` with the end users of ``gateways`` (accounts declared gateways,
    ``AccountState.set_meta``) as entities of their own. The engine applies it as
    records arrive (``AccountState.entities``); the distributed stage 1
    (detector/scaleout) applies it the same way.

    A gateway or reseller calls for thousands of customers from one account, and
    a campaign may run through a few dozen of them: a sliver of the account's
    traffic, and one account is never a cluster. Their records count under the end
    user inside the account (``principal``), without the gateway's network (the
    address it calls from is every end user's: it neither links them nor counts as
    theirs) and without its organisation (its customers are not its staff). Only
    for accounts whose sign-up declares them gateways: anyone can put a ``user``
    on a call, and every other account's traffic stays its own.
    """
    if not gateways or "end_user" not in records.columns:
        return records
    behind = records["account_id"].is_in(list(gateways)) & records["end_user"].is_not_null()
    if not behind.any():
        return records
    pairs = records.filter(behind).select("account_id", "end_user").unique()
    names = pl.DataFrame(
        {
            "account_id": pairs["account_id"],
            "end_user": pairs["end_user"],
            "_entity": [principal(a, u) for a, u in pairs.iter_rows()],
        }
    )
    return (
        records.with_row_index("_row")
        .join(names, on=["account_id", "end_user"], how="left")
        .sort("_row")
        .with_columns(
            pl.coalesce("_entity", "account_id").alias("account_id"),
            pl.when(pl.col("_entity").is_not_null())
            .then(None)
            .otherwise(pl.col("ip_prefix"))
            .alias("ip_prefix"),
            pl.when(pl.col("_entity").is_not_null())
            .then(None)
            .otherwise(pl.col("org_id"))
            .alias("org_id"),
        )
        .drop("_row", "_entity")
    )


def _no_meta() -> pl.DataFrame:
    return pl.DataFrame(schema=META_SCHEMA)


@dataclass
class AccountState:
    """What the merged windows leave per account, and what sign-up says of them."""

    config: EngineConfig = field(default_factory=EngineConfig)
    accounts_: pl.DataFrame = field(default_factory=empty_accounts)
    keys_: KeyState = field(default_factory=KeyState)
    # Records per account and day, one frame per day: a tick regroups only the days
    # its windows fall on, and retention drops whole days.
    daily_: dict[int, pl.DataFrame] = field(default_factory=dict)
    meta_: pl.DataFrame = field(default_factory=_no_meta)
    # The keys sign-up metadata gives every account, made when the metadata changes
    # rather than at every tick (``signup_keys``).
    meta_keys_: pl.DataFrame = field(default_factory=lambda: signup_keys(_no_meta()))
    # Accounts declared gateways (``EngineConfig.gateway_programs``), from the metadata.
    gateways_: frozenset[str] = frozenset()

    def set_meta(self, meta: pl.DataFrame) -> None:
        """Replace the sign-up metadata (one row per account, ``META_SCHEMA``; a
        column it lacks is unknown for every account)."""
        self.meta_ = with_card_owners(
            meta.select(
                [
                    (pl.col(name) if name in meta.columns else pl.lit(None)).cast(dtype).alias(name)
                    for name, dtype in META_SCHEMA.items()
                ]
            )
        ).sort("account_id")
        self.meta_keys_ = signup_keys(self.meta_)
        self.gateways_ = frozenset(
            self.meta_.filter(pl.col("program").is_in(list(self.config.gateway_programs)))[
                "account_id"
            ].to_list()
        )

    def entities(self, records: pl.DataFrame) -> pl.DataFrame:
        """``records`` with the end users of declared gateways as entities of their
        own (``gateway_entities``)."""
        return gateway_entities(records, self.gateways_)

    def merge(self, windows: list[WindowAggregate], end: float) -> None:
        """Fold a tick's window aggregates (ending at ``end``) into the state, and
        let accounts idle past the retention horizon go."""
        config = self.config
        if windows:
            self.accounts_ = merge_accounts(self.accounts_, windows)
            self.keys_ = merge_keys(self.keys_, windows, top_k=config.top_k)
            days = [
                w.accounts.select(
                    "account_id", pl.lit(int(w.start // DAY), pl.Int64).alias("day"), "records"
                )
                for w in windows
            ]
            for (day,), fresh in pl.concat(days).partition_by("day", as_dict=True).items():
                held = self.daily_.get(int(day))
                both = fresh if held is None else pl.concat([held, fresh])
                self.daily_[int(day)] = both.group_by("account_id", "day").agg(
                    pl.col("records").sum()
                )
            first_day = int((end - config.retention_days * DAY) // DAY)
            self.daily_ = {day: f for day, f in self.daily_.items() if day >= first_day}
        # Accounts idle past the retention horizon leave the state: memory stays flat.
        # They go once the oldest has been idle a day past it, so that the whole key
        # state is filtered about once a day rather than at every tick (at every tick a
        # few accounts cross the horizon). Idle accounts are never active, so none is
        # clustered or scored meanwhile; one that comes back within that day carries
        # on with its counts instead of starting afresh.
        horizon = end - config.retention_days * DAY
        if self.accounts_.height and float(self.accounts_["last_seen"].min()) < horizon - DAY:  # type: ignore[arg-type]
            self.accounts_ = self.accounts_.filter(pl.col("last_seen") >= horizon)
            # Matched on the account hash the key state carries: integers, not strings.
            # An idle account sharing a live one's hash would merely stay a while.
            self.keys_ = self.keys_.keep_accounts(self.accounts_.select(ACCOUNT_HASH))

    def daily(self) -> pl.DataFrame:
        """Records per account and day, every day retained, in one frame."""
        if not self.daily_:
            return pl.DataFrame(schema=DAILY_SCHEMA)
        return pl.concat(self.daily_.values(), rechunk=False)

    # -- checkpoint -------------------------------------------------------------------

    def snapshot(self) -> bytes:
        """The state as a versioned envelope (``pipeline.snapshot``). Key rows and
        floors are stored by their strings, not their hashes: a floor as the account,
        kind and value of the row it was taken from."""
        rows = self.keys_.rows
        floors = self.keys_.floors.join(
            rows.select("_group", "_tie", "account_id", "kind", "value"),
            left_on=["_group", "floor_tie"],
            right_on=["_group", "_tie"],
            how="inner",
            maintain_order="left",
        ).select("account_id", "kind", "value", "floor_records")
        out = Writer("accounts")
        out.frame("accounts", self.accounts_)
        out.frame("keys", rows.select(_KEY_COLUMNS))
        out.frame("floors", floors)
        out.frame("daily", self.daily())
        out.frame("meta", self.meta_.select(list(META_SCHEMA)))
        return out.finish()

    @classmethod
    def restore(
        cls, blob: bytes, *, config: EngineConfig, versions: dict[str, str]
    ) -> AccountState:
        """The state of ``snapshot``, its hashes computed again by this process's
        polars; ``StaleState`` when it cannot be read as one."""
        data = Reader.open(blob, part="accounts", versions=versions)
        keys = empty_keys()
        state = cls(config=config)
        state.accounts_ = data.frame("accounts", empty_accounts().schema)
        rows = data.frame("keys", keys.select(_KEY_COLUMNS).schema)
        floors = data.frame("floors", _FLOORS_SCHEMA | {"kind": keys.schema["kind"]})
        state.keys_ = KeyState(
            rows=with_key_hashes(rows).select(keys.columns),
            floors=with_key_hashes(floors).select(
                "_group", "_acct", "floor_records", pl.col("_tie").alias("floor_tie")
            ),
        )
        daily = data.frame("daily", DAILY_SCHEMA)
        state.daily_ = {
            int(day): part for (day,), part in daily.partition_by("day", as_dict=True).items()
        }
        state.set_meta(data.frame("meta", META_SCHEMA))
        return state


_FLOORS_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.String(),
    "kind": pl.String(),  # replaced by the key state's own kind type
    "value": pl.String(),
    "floor_records": pl.Int64(),
}
