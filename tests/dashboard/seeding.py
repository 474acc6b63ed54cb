"""Cases written straight into the case store, as the pipeline writes them.

The dashboard reads ``cases``, ``case_accounts`` and ``accounts``; these helpers fill
them with seeded, realistic-looking evidence so that tests and the benchmark do not
depend on a pipeline run. Used by ``tests/dashboard`` and ``benchmarks/dashboard.py``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert

from detector.dashboard.passwords import hash_password
from detector.store.models import AccountRow
from detector.store.pipeline_models import CaseAccountRow, CaseRow
from detector.store.reviewers import add_reviewer

# 2026-02-23T00:00:00Z, the day of the public report: a fixed event-time origin.
ORIGIN = datetime(2026, 2, 23, tzinfo=UTC)
CAPABILITIES = ("tool_use", "coding", "reasoning", "cot_elicitation", "chat", "vision")
PROGRAMS = ("standard", "edu", "startup", "research")
PASSWORD = "correct-horse-battery"


def add_test_reviewer(conn: Connection, username: str = "alice") -> int:
    """A reviewer with ``PASSWORD``, hashed at a low scrypt cost to keep tests quick."""
    return add_reviewer(
        conn,
        username=username,
        password_hash=hash_password(PASSWORD, n=2**12),
        now=datetime.now(UTC),
    )


def case_row(
    case_id: str,
    *,
    score: float,
    accounts: int,
    status: str = "open",
    cluster_id: str | None = None,
    main: str = "tool_use",
    reasons: Sequence[str] = (),
    opened_at: datetime = ORIGIN,
    days: int = 14,
    features: dict[str, float] | None = None,
    last_flagged_at: datetime | None = None,
    campaign_id: str | None = None,
    rng: random.Random | None = None,
) -> dict[str, Any]:
    rng = rng or random.Random(case_id)
    rest = [name for name in CAPABILITIES if name != main]
    mix = {main: 0.7, **{name: 0.3 / len(rest) for name in rest}}
    now = datetime.now(UTC)
    return {
        "case_id": case_id,
        "cluster_id": cluster_id or f"cl-{case_id}",
        "status": status,
        "score": score,
        "peak_score": score,
        "opened_at": opened_at,
        "last_event_at": opened_at + timedelta(days=days),
        # Flagged until its last update, unless told otherwise.
        "last_flagged_at": last_flagged_at or opened_at + timedelta(days=days),
        "campaign_id": campaign_id,
        "updated_at": now,
        "account_count": accounts,
        "record_count": accounts * 120,
        "capability_mix": mix,
        "reasons": list(reasons)
        or [
            f"{accounts} accounts share one payment instrument",
            f"{mix[main]:.0%} of traffic is {main}, against 12% in the population",
        ],
        "features": features
        or {
            "shared_payment": 0.9,
            "lockstep": round(rng.random(), 3),
            **{f"pop_{name}": 1 / len(CAPABILITIES) for name in CAPABILITIES},
        },
        "shared": {
            "payment": [
                {
                    "value": f"pay-{case_id}-{i}",
                    "accounts": accounts // (i + 1),
                    "records": accounts * 50,
                }
                for i in range(3)
            ],
            "ip_prefix": [
                {"value": f"203.0.{i}.0/24", "accounts": accounts // 2, "records": accounts * 30}
                for i in range(2)
            ],
        },
        "timeline": [
            {
                "day": (opened_at + timedelta(days=d)).date().isoformat(),
                "records": int(accounts * (40 + 80 * (d > days // 2)) * rng.uniform(0.8, 1.2)),
                "accounts": accounts,
            }
            for d in range(days)
        ],
        "signatures": ["shared-payment"],
    }


def seed_case(
    conn: Connection,
    case_id: str,
    *,
    score: float,
    account_ids: Sequence[str],
    with_metadata: bool = True,
    **fields: Any,
) -> None:
    """One case, its accounts, and their sign-up metadata (a burst over two days)."""
    rng = random.Random(case_id)
    row = case_row(case_id, score=score, accounts=len(account_ids), rng=rng, **fields)
    # As the pipeline keeps them: up to fifty holders of each shared value, and how many
    # active accounts use it platform-wide.
    for values in row["shared"].values():
        for item in values:
            item.setdefault("account_ids", sorted(account_ids)[: min(50, item["accounts"])])
            item.setdefault("platform_accounts", item["accounts"] + 3)
            item.setdefault("other_account_ids", [])
    conn.execute(insert(CaseRow), [row])
    opened = row["opened_at"]
    conn.execute(
        insert(CaseAccountRow),
        [
            {
                "case_id": case_id,
                "account_id": account_id,
                "joined_at": opened,
                "record_count": rng.randint(50, 400),
            }
            for account_id in account_ids
        ],
    )
    if with_metadata:
        now = datetime.now(UTC)
        conn.execute(
            insert(AccountRow),
            [
                {
                    "account_id": account_id,
                    "created_at": opened - timedelta(hours=rng.uniform(1, 48)),
                    "program": rng.choice(PROGRAMS),
                    "country": "SG",
                    "email_domain": "example.edu",
                    "payment_fingerprint": f"pay-{case_id}-0",
                    "updated_at": now,
                }
                for account_id in account_ids
            ],
        )


def seed_queue(conn: Connection, count: int, *, accounts: int = 3, seed: int = 7) -> None:
    """``count`` open cases of a few accounts each, in bulk."""
    rng = random.Random(seed)
    rows = []
    members: list[dict[str, Any]] = []
    for index in range(count):
        case_id = f"q{index:06d}"
        main = CAPABILITIES[index % len(CAPABILITIES)]
        rows.append(
            case_row(
                case_id,
                score=round(rng.random(), 4),
                accounts=accounts,
                main=main,
                opened_at=ORIGIN + timedelta(hours=index),
                days=3,
                rng=rng,
            )
        )
        members.extend(
            {
                "case_id": case_id,
                "account_id": f"{case_id}-a{j}",
                "joined_at": ORIGIN,
                "record_count": 100,
            }
            for j in range(accounts)
        )
    conn.execute(insert(CaseRow), rows)
    conn.execute(insert(CaseAccountRow), members)
