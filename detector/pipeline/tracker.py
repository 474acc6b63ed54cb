"""The case tracker: clusters found at each tick, scored, and followed as cases and
campaigns.

Owned by the analysing thread (``pipeline.threads``): it runs one tick's ``analyse``
at a time, from a ``TickView`` of the state as it was at that tick, and alone changes
the cluster registry, the scorer, the cases, the campaigns and the unsettled updates.
The caller's thread adopts stored cases, learns reviewers' decisions and snapshots
the tracker only while no tick is being analysed (``Engine.settle`` waits for them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from detector.clustering.coherence import prune
from detector.clustering.identity import ClusterRegistry
from detector.clustering.linkage import LINKING_KINDS, components, gateway_keys
from detector.clustering.operations import join_operations
from detector.features.capability import CAPABILITIES
from detector.features.windows import ACCOUNT_HASH
from detector.pipeline.cases import (
    OWNERS_SCHEMA,
    Campaigns,
    CaseInfo,
    CaseUpdate,
    capability_mix,
    continued_case,
    no_shared,
    shared_by_case,
    timelines,
)
from detector.pipeline.config import DAY, EngineConfig
from detector.pipeline.snapshot import Reader, StaleState, Writer
from detector.scoring.cluster_features import FEATURE_NAMES, cluster_features
from detector.scoring.contributions import typical
from detector.scoring.scorer import ClusterScore, ClusterScorer


@dataclass(frozen=True, slots=True)
class TickView:
    """The state a tick is analysed from, as it was when its windows were merged.
    Polars frames are never changed in place, so holding them is holding that state;
    the containers the merging thread changes are copied."""

    end: float
    accounts: pl.DataFrame
    keys: pl.DataFrame
    meta: pl.DataFrame
    meta_keys: pl.DataFrame
    minutes: list[tuple[int, pl.DataFrame]]
    daily: pl.DataFrame
    releases: dict[str, float]


@dataclass(frozen=True, slots=True)
class Unsettled:
    """The updates of a tick whose evidence is not yet gathered, with the state it
    is gathered from: frames as they were at that tick (polars frames are never
    changed in place, so holding them is holding that state)."""

    updates: list[CaseUpdate]
    owners: pl.DataFrame
    keys: pl.DataFrame
    daily: pl.DataFrame


@dataclass
class CaseTracker:
    """Cluster identity, the scorer, the cases and campaigns. Picklable."""

    config: EngineConfig = field(default_factory=EngineConfig)
    scorer: ClusterScorer = field(default_factory=ClusterScorer)
    registry: ClusterRegistry = field(default_factory=ClusterRegistry)
    cases_: dict[str, CaseInfo] = field(default_factory=dict)
    campaigns_: Campaigns = field(default_factory=Campaigns)
    next_case_: int = 1
    unsettled_: Unsettled | None = None

    def adopt(self, known: list[CaseInfo], *, next_number: int) -> None:
        """See ``Engine.adopt_cases``."""
        for info in known:
            # Keyed apart from every cluster id: these cases are continued by
            # overlap, and a cluster that continues one is keyed by its own id.
            self.cases_.setdefault(f"stored:{info.case_id}", info)
        self.next_case_ = max(self.next_case_, next_number)

    def analyse(self, view: TickView) -> list[CaseUpdate]:
        """Cluster the active accounts, score the clusters, open and update cases.
        Runs on the analysing thread, one tick after another: reads only ``view``
        and the configuration, and alone changes the registry, the scorer, the
        cases, the campaigns and the unsettled updates."""
        end = view.end
        config = self.config
        active = view.accounts.filter(pl.col("last_seen") >= end - config.active_days * DAY)
        if active.height < 2:
            return []
        ids = active.select("account_id")
        meta = view.meta.join(ids, on="account_id", how="semi")
        # Carried with their match hashes, which linkage and features group on.
        state = view.keys.select("account_id", "kind", "value", "records", "_acct", "_tie")
        live = active.select(ACCOUNT_HASH)["_acct"].implode()
        if active.height < view.accounts.height:
            state = state.filter(pl.col("_acct").is_in(live))
        # The metadata also lists accounts with no traffic: its keys are always filtered.
        signed = view.meta_keys.filter(pl.col("_acct").is_in(live))
        keys = pl.concat([state, signed])
        linking = pl.concat([keys.filter(pl.col("kind").is_in(LINKING_KINDS)), gateway_keys(state)])
        found = join_operations(
            prune(components(linking, active.height, config.linkage), keys), keys
        )
        mapping = self.registry.assign(found)
        members = found.with_columns(
            pl.col("component").replace_strict(mapping, return_dtype=pl.String).alias("cluster_id")
        ).select("account_id", "cluster_id")
        sized = members.filter(pl.len().over("cluster_id") >= config.min_case_accounts)
        if sized.is_empty() and not self.cases_:
            return []
        minutes = pl.concat(
            [
                m.with_columns((pl.col("minute") + 60 * (w - view.minutes[0][0])).alias("slot"))
                for w, m in view.minutes
            ]
        ).select("account_id", pl.col("slot").cast(pl.Int64), pl.col("records").cast(pl.Int64))
        features = cluster_features(sized, active, keys, meta, minutes)
        due: list[tuple[CaseInfo, dict[str, Any], ClusterScore]] = []
        for row in features.iter_rows(named=True):
            # Scored one by one, in cluster order: learning from one cluster changes
            # the anomaly score of the next.
            result = self.scorer.score_one(row)
            cluster_id = row["cluster_id"]
            info = self.cases_.get(cluster_id)
            if info is None and result.score >= config.threshold:
                accounts = set(sized.filter(pl.col("cluster_id") == cluster_id)["account_id"])
                info = continued_case(self.cases_.values(), accounts)
                if info is None:
                    info = CaseInfo(
                        case_id=f"C{self.next_case_:06d}", opened_at=end, peak_score=0.0
                    )
                    self.next_case_ += 1
                self.cases_[cluster_id] = info
            if info is None:
                self.scorer.learn_one(row)
                continue
            due.append((info, row, result))
        return self._updates(due, members, view, keys, active, typical(features, due))

    def _campaign(self, case_id: str) -> dict[str, Any]:
        """``campaign_id`` and ``campaign_cases`` of a case's update."""
        members = self.campaigns_.members(case_id)
        if len(members) < 2:
            return {"campaign_id": None, "campaign_cases": []}
        return {"campaign_id": members[0], "campaign_cases": members}

    def _population_mix(self, active: pl.DataFrame) -> dict[str, float]:
        """``pop_<capability>``: the share of records exercising each capability over
        the active accounts outside every case, the baseline a case's mix is read
        against (on the case page, next to the case's own ``capability_mix``)."""
        flagged = sorted({a for info in self.cases_.values() for a in info.accounts})
        honest = active.filter(~pl.col("account_id").is_in(flagged))
        sums = honest.select(
            pl.col("records").sum(), *[pl.col(f"cap_{n}").sum() for n in CAPABILITIES]
        ).row(0)
        total = max(1, int(sums[0] or 0))
        return {
            f"pop_{name}": round(float(value or 0) / total, 4)
            for name, value in zip(CAPABILITIES, sums[1:], strict=True)
        }

    def _updates(
        self,
        due: list[tuple[CaseInfo, dict[str, Any], ClusterScore]],
        members: pl.DataFrame,
        view: TickView,
        keys: pl.DataFrame,
        active: pl.DataFrame,
        baseline: dict[str, float] | None = None,
    ) -> list[CaseUpdate]:
        """The updates of the cases whose clusters were scored at this tick. Their
        evidence (shared infrastructure, timelines) is gathered for all of them in one
        pass over the state, not one pass per case, and only once it is known that no
        later update supersedes them (``settle``)."""
        if not due:
            return []
        self.settle(superseded=frozenset(info.case_id for info, _, _ in due))
        context = (
            self._population_mix(active)
            | {f"release_{model}": first for model, first in view.releases.items()}
            | (baseline or {})
            | {"active_days": float(self.config.active_days)}
        )
        wanted = [row["cluster_id"] for _, row, _ in due]
        current: dict[str, list[str]] = dict(
            members.filter(pl.col("cluster_id").is_in(wanted))
            .group_by("cluster_id")
            .agg(pl.col("account_id").sort())
            .iter_rows()
        )
        opened: dict[str, bool] = {}
        new: dict[str, set[str]] = {}
        # Which cases hold each account, built once a tick rather than once a cluster.
        holders: dict[str, set[str]] = {}
        for known in {i.case_id: i for i in self.cases_.values()}.values():
            for account in known.accounts:
                holders.setdefault(account, set()).add(known.case_id)
        for info, row, result in due:
            accounts = current.get(row["cluster_id"], [])
            # A cluster holding accounts of other cases joins their campaigns.
            linked: set[str] = set().union(*(holders.get(a, set()) for a in accounts))
            self.campaigns_.join([info.case_id, *sorted(linked)])
            opened.setdefault(info.case_id, not info.accounts)
            new.setdefault(info.case_id, set()).update(set(accounts) - info.accounts)
            info.accounts.update(accounts)
            info.peak_score = max(info.peak_score, result.score)
        # A case that several clusters continue reports its highest-scoring one.
        best: dict[str, tuple[CaseInfo, dict[str, Any], ClusterScore]] = {}
        for entry in due:
            held = best.get(entry[0].case_id)
            if held is None or entry[2].score > held[2].score:
                best[entry[0].case_id] = entry
        due = list(best.values())
        owners = pl.DataFrame(
            {
                "case_id": [info.case_id for info, _, _ in due for _ in info.accounts],
                "account_id": [a for info, _, _ in due for a in sorted(info.accounts)],
            },
            schema=OWNERS_SCHEMA,
        )
        # Accounts that left the running state keep the count they last had.
        by_case = {info.case_id: info for info, _, _ in due}
        seen: dict[str, dict[str, float]] = {}
        for case_id, account, records, last in (
            owners.join(view.accounts.select("account_id", "records", "last_seen"), on="account_id")
            .select("case_id", "account_id", "records", "last_seen")
            .iter_rows()
        ):
            by_case[case_id].records[account] = records
            seen.setdefault(case_id, {})[account] = last
        updates = []
        for info, row, result in due:
            everyone = sorted(info.accounts)
            records = {account: info.records.get(account, 0) for account in everyone}
            features = {name: round(float(row[name]), 4) for name in FEATURE_NAMES}
            updates.append(
                CaseUpdate(
                    case_id=info.case_id,
                    cluster_id=row["cluster_id"],
                    opened=opened[info.case_id],
                    event_time=view.end,
                    opened_at=info.opened_at,
                    score=result.score,
                    peak_score=info.peak_score,
                    account_count=len(everyone),
                    record_count=int(sum(records.values())),
                    capability_mix=capability_mix(row),
                    reasons=result.reasons,
                    features=features | context | {"cluster_accounts": row["account_count"]},
                    contributions=[term.as_dict() for term in result.contributions],
                    account_last_seen=seen.get(info.case_id, {}),
                    shared=no_shared(),
                    timeline=[],
                    signatures=result.signatures,
                    new_accounts=sorted(new[info.case_id]),
                    account_records={a: int(n) for a, n in records.items()},
                    **self._campaign(info.case_id),
                )
            )
        self.unsettled_ = Unsettled(updates, owners, keys, view.daily)
        return updates

    def settle(self, *, superseded: frozenset[str]) -> None:
        """Gather the evidence (shared infrastructure, timeline) of the last tick's
        updates that no case in ``superseded`` replaces."""
        pending, self.unsettled_ = self.unsettled_, None
        if pending is None:
            return
        wanted = [u for u in pending.updates if u.case_id not in superseded]
        if not wanted:
            return
        owners = pending.owners.filter(pl.col("case_id").is_in([u.case_id for u in wanted]))
        shared = shared_by_case(pending.keys, owners)
        lines = timelines(pending.daily, owners)
        for update in wanted:
            update.shared = shared.get(update.case_id, no_shared())
            update.timeline = lines.get(update.case_id, [])
            update.settled = True

    # -- checkpoint -------------------------------------------------------------------

    def snapshot(self) -> bytes:
        """The tracker as a versioned envelope (``pipeline.snapshot``): the scorer
        (a river model), the registry, the cases and the campaigns pickled inside it,
        under the river and numpy versions it records."""
        if self.unsettled_ is not None:
            raise RuntimeError("updates are not settled: settle() before a snapshot")
        out = Writer("cases")
        out.values = {"next_case": self.next_case_}
        out.pickled(
            "objects",
            {
                "scorer": self.scorer,
                "registry": self.registry,
                "cases": self.cases_,
                "campaigns": self.campaigns_,
            },
        )
        return out.finish()

    @classmethod
    def restore(cls, blob: bytes, *, config: EngineConfig, versions: dict[str, str]) -> CaseTracker:
        """The tracker of ``snapshot``; ``StaleState`` when it cannot be read as one."""
        data = Reader.open(blob, part="cases", versions=versions)
        objects = data.pickled("objects")
        if not isinstance(objects, dict) or not isinstance(objects.get("scorer"), ClusterScorer):
            raise StaleState("cases: the objects are not a tracker's")
        return cls(
            config=config,
            scorer=objects["scorer"],
            registry=objects["registry"],
            cases_=objects["cases"],
            campaigns_=objects["campaigns"],
            next_case_=int(data.values["next_case"]),
        )
