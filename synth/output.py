"""Files of a run: accounts, ground truth and the scenario, beside the day files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from synth.catalogue import COUNTRY_CODES, PROGRAMS
from synth.day import NS_ACCOUNT, NS_PAYMENT, NS_USER, account_ids, org_ids, run_salt
from synth.ids import hex_strings, ipv4_strings
from synth.plan import Plan
from synth.resellers import registered

PARQUET = {"compression": "zstd", "store_schema": False}


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def accounts_table(plan: Plan) -> pa.Table:
    """Every account as CONTRACT.md §2 defines it, those hidden behind a reseller
    included (``write_accounts`` leaves them out of the account files)."""
    t = plan.accounts
    n = len(t)
    salt = run_salt(plan.scenario)
    return pa.table(
        {
            "account_id": account_ids(n, salt),
            "created_at": pa.array(np.round(t.created_at, 3)),
            "org_id": org_ids(t.org, salt),
            "payment_fingerprint": hex_strings(
                t.payment, salt + NS_PAYMENT, digits=32, valid=t.payment >= 0
            ),
            "email_domain": pa.array(np.array(plan.domains, dtype=object)[t.email_domain]),
            "signup_ip": ipv4_strings(t.signup_ip),
            "country": pa.array(np.array(COUNTRY_CODES, dtype=object)[t.country]),
            "program": pa.array(np.array(PROGRAMS, dtype=object)[t.program]),
            "verified": pa.array(t.verified),
        }
    )


def truth_table(plan: Plan, account_ids: pa.Array) -> pa.Table:
    """Account -> label (campaign name or ``honest``), kind, population and group.

    Where some accounts are hidden behind a reseller (``synth.resellers``), two more
    columns say, for those, which account their calls came from (``via_account_id``)
    and as which end user (``end_user_id``); null for every other account. Runs
    without hidden accounts keep the five columns they always had.
    """
    t = plan.accounts
    owner = t.population.astype(np.int64)
    names = np.array([p.name for p in plan.populations], dtype=object)
    labels = np.array([p.label for p in plan.populations], dtype=object)
    kinds = np.array([p.kind for p in plan.populations], dtype=object)
    columns = {
        "account_id": account_ids,
        "label": pa.array(labels[owner]),
        "kind": pa.array(kinds[owner]),
        "population": pa.array(names[owner]),
        "group": pa.array(t.group),
    }
    hidden = t.via >= 0
    if hidden.any():
        salt = run_salt(plan.scenario)
        # The same ids as ``account_ids`` and the records' ``end_user_id`` give them.
        columns["via_account_id"] = hex_strings(
            t.via, salt + NS_ACCOUNT, prefix="acct_", valid=hidden
        )
        columns["end_user_id"] = hex_strings(
            t.via_user, salt + NS_USER, prefix="user_", valid=hidden
        )
    return pa.table(columns)


def scenario_document(plan: Plan, day_counts: list[int]) -> dict[str, Any]:
    """Parameters, seed, campaign times, the release, volumes: everything a grader needs."""
    eff = plan.effective
    table = plan.accounts
    campaigns: dict[str, Any] = {}
    populations: dict[str, Any] = {}
    for index, pop in enumerate(plan.populations):
        first = float(table.active_from[pop.accounts].min())
        last = float(table.active_to[pop.accounts].max())
        info = {
            "label": pop.label,
            "kind": pop.kind,
            "records": int(plan.daily[index].sum()),
            "accounts": len(pop.accounts),
            "first_active": iso(first),
            "last_active": iso(last),
        }
        populations[pop.name] = info
        if pop.kind == "campaign":
            campaign = {**info, "start": iso(first), "end": iso(last)}
            if pop.mix2 is not None:
                campaign["phase2_start"] = iso(pop.phase2_at)
            campaigns[pop.name] = campaign
    return {
        "scenario": plan.scenario.to_dict(),
        "effective": eff.to_dict(),
        "start": iso(eff.start_epoch),
        "end": iso(eff.start_epoch + eff.days * 86_400),
        "release": {"model": eff.new_model, "time": iso(eff.release_epoch)},
        "campaigns": campaigns,
        "populations": populations,
        "sources": [p.name for p in plan.populations],
        "records": int(sum(day_counts)),
        "accounts": len(table),
        "days": [
            {"date": iso(eff.start_epoch + d * 86_400)[:10], "records": count}
            for d, count in enumerate(day_counts)
        ],
    }


def write_accounts(out: Path, plan: Plan) -> pa.Table:
    """The registered accounts (not those hidden behind a reseller) and the truth of
    every account."""
    table = accounts_table(plan)
    truth = truth_table(plan, table.column("account_id"))
    own = registered(plan.accounts)
    if not own.all():
        table = table.filter(pa.array(own))
    pq.write_table(table, out / "accounts.parquet", **PARQUET)
    pl.from_arrow(table).write_ndjson(out / "accounts.ndjson")  # type: ignore[union-attr]
    pq.write_table(truth, out / "truth.parquet", **PARQUET)
    return table


def write_scenario(out: Path, document: dict[str, Any]) -> None:
    (out / "scenario.json").write_text(json.dumps(document, indent=2) + "\n")


def write_world(out: Path, plan: Plan) -> None:
    """``world.json`` beside the run of a drawn world: its parameters as drawn, which
    ``synth generate --scenario world.json`` turns into the same run again."""
    if plan.scenario.world is not None:
        text = json.dumps(plan.scenario.to_dict(), indent=2)
        (out / "world.json").write_text(text + "\n")
