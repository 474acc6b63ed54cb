"""Case ids belong to the store: a pipeline state that cannot be restored is rebuilt
from the event log, and it continues the store's cases instead of numbering afresh."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from detector.enforcement.blocklist import blocked_accounts
from detector.pipeline import runner as runner_module
from detector.pipeline.engine import EngineConfig
from detector.pipeline.runner import PipelineRunner
from detector.store.db import write_transaction
from detector.store.pipeline_models import CaseAccountRow, CaseRow, PipelineStateRow
from detector.store.reviews import decide
from tests.pipeline.traffic import Traffic, make_traffic

# Every identity a sender sets, so that the second campaign shares nothing with the first.
_RENAMED = (
    "event_id",
    "account_id",
    "org_id",
    "payment_fingerprint",
    "signup_ip",
    "client_ip",
    "user_agent",
    "system_fingerprint",
    "template_fingerprint",
    "prompt_fingerprint",
)


def unrelated(data: Traffic, *, prefix: str, days: float) -> Traffic:
    """``data`` as another operation's, ``days`` later: every identity renamed."""

    def rename(item: dict[str, Any]) -> dict[str, Any]:
        out = {k: f"{prefix}{v}" if k in _RENAMED and v is not None else v for k, v in item.items()}
        if "client_ip" in out:
            out["client_ip"] = item["client_ip"].replace("203.0.", "192.0.")
        for name in ("ts_start", "created_at"):
            if name in out:
                out[name] = item[name] + days * 86_400
        return out

    return Traffic(
        records=[rename(r) for r in data.records],
        accounts=[rename(a) for a in data.accounts],
        campaign={prefix + a for a in data.campaign},
        honest={prefix + a for a in data.honest},
    )


def cases(db: Engine) -> dict[str, set[str]]:
    with db.connect() as conn:
        ids = conn.execute(select(CaseRow.case_id)).scalars().all()
        rows = conn.execute(select(CaseAccountRow.case_id, CaseAccountRow.account_id)).all()
    out: dict[str, set[str]] = {case_id: set() for case_id in ids}
    for case_id, account in rows:
        out[case_id].add(account)
    return out


def blocklist(db: Engine) -> set[str]:
    with db.connect() as conn:
        return {entry.account_id for entry in blocked_accounts(conn)}


@pytest.mark.db
def test_a_rebuilt_state_never_rewrites_a_blocked_case(
    engine: Engine,
    traffic: Traffic,
    ingest: Callable[[Traffic, int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = EngineConfig()
    ingest(traffic, 5_000)
    PipelineRunner(db=engine, config=config).run_until_idle(flush=True)
    first = cases(engine)
    (blocked,) = [cid for cid, accounts in first.items() if accounts == traffic.campaign]
    with write_transaction(engine) as conn:
        decide(conn, case_id=blocked, action="block", note="", actor="t", now=datetime.now(UTC))
    assert blocklist(engine) == traffic.campaign

    # An upgrade: the stored state is of a layout this code no longer reads.
    monkeypatch.setattr(runner_module, "STATE_VERSION", runner_module.STATE_VERSION + 1)
    other = unrelated(make_traffic(seed=2, hours=48, honest=10, campaign=12), prefix="b-", days=5)
    ingest(other, 5_000)
    PipelineRunner(db=engine, config=config).run_until_idle(flush=True)

    after = cases(engine)
    assert after[blocked] == traffic.campaign
    assert blocklist(engine) == traffic.campaign
    (second,) = [cid for cid, accounts in after.items() if accounts & other.campaign]
    assert second not in first
    assert after[second] == other.campaign
    # The replayed history continued its cases; none was opened twice.
    assert set(first) <= set(after)
    assert len(after) == len(first) + 1


@pytest.mark.db
def test_an_unreadable_state_is_rebuilt_from_the_event_log(
    engine: Engine, traffic: Traffic, ingest: Callable[[Traffic, int], None]
) -> None:
    ingest(traffic, 5_000)
    PipelineRunner(db=engine).run_until_idle(flush=True)
    before = cases(engine)
    with write_transaction(engine) as conn:
        conn.execute(update(PipelineStateRow).values(state=b"not zstd"))
    rebuilt = PipelineRunner(db=engine)
    stats = rebuilt.run_until_idle()
    assert stats.records == len(traffic.records)
    assert rebuilt.status()["processed"] == len(traffic.records)
    rebuilt.step(flush=True)
    assert cases(engine) == before


@pytest.mark.db
def test_a_state_written_under_other_library_versions_is_rebuilt(
    engine: Engine,
    traffic: Traffic,
    ingest: Callable[[Traffic, int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ingest(traffic, 5_000)
    PipelineRunner(db=engine).run_until_idle(flush=True)
    before = cases(engine)
    actual = runner_module.library_versions()
    # The next process runs another polars, whose hashes the stored state may not match.
    monkeypatch.setattr(runner_module, "library_versions", lambda: actual | {"polars": "0.0"})
    rebuilt = PipelineRunner(db=engine)
    assert rebuilt.run_until_idle().records == len(traffic.records)
    rebuilt.step(flush=True)
    assert cases(engine) == before
