"""Accounts idle past the retention horizon leave the running state, keys and all,
so memory stays flat however long the stream runs."""

from __future__ import annotations

import polars as pl

from detector.features.frames import RECORD_SCHEMA, narrow
from detector.pipeline.engine import DAY, Engine, EngineConfig
from tests.pipeline.traffic import HOUR, START


def hourly(account: str, hours: range, ip: str) -> list[dict[str, object]]:
    return [
        {
            "ts_start": START + h * HOUR + 60,
            "account_id": account,
            "request_model": "m",
            "client_ip": ip,
            "user_agent": "sdk/1",
            "template_fingerprint": f"t-{account}-{h % 3}",
        }
        for h in hours
    ]


def held(engine: Engine) -> tuple[set[str], set[str]]:
    return set(engine.accounts_["account_id"]), set(engine.keys_.rows["account_id"])


def test_idle_accounts_leave_the_state_within_a_day_of_the_horizon() -> None:
    engine = Engine(config=EngineConfig(retention_days=2.0, active_days=1.0))
    rows = hourly("busy", range(24 * 6), "198.51.100.7") + hourly("brief", range(3), "203.0.113.9")
    records = narrow(pl.from_dicts(sorted(rows, key=lambda r: r["ts_start"]), schema=RECORD_SCHEMA))
    brief_held = []
    for day in range(6):
        day_start = START + day * DAY
        engine.add(records.filter((pl.col("ts") >= day_start) & (pl.col("ts") < day_start + DAY)))
        engine.advance()
        assert engine.closed_until is not None
        idle_days = (engine.closed_until - (START + 3 * HOUR)) / DAY
        accounts, keys = held(engine)
        assert "busy" in accounts and "busy" in keys
        # Accounts and keys leave together: never one without the other.
        assert ("brief" in accounts) == ("brief" in keys)
        if idle_days > 2.0 + 1.0 + 3 / 24:  # past the horizon, plus a day, plus a tick
            assert "brief" not in accounts
        brief_held.append("brief" in accounts)
    # Held at first, gone by the end.
    assert brief_held[0] and not brief_held[-1]
