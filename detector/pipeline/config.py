"""The pipeline's knobs and the shapes of its sign-up metadata and daily counts."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from detector.clustering.linkage import LinkageConfig

DAY = 86_400.0

META_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.String(),
    "created_at": pl.Float64(),
    "org_id": pl.String(),
    "payment_fingerprint": pl.String(),
    "email_domain": pl.String(),
    "signup_ip": pl.String(),
    "program": pl.String(),
    "country": pl.String(),
}
DAILY_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.String(),
    "day": pl.Int64(),
    "records": pl.Int64(),
}


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Knobs of the pipeline; see docs/detection.md for what each trades."""

    window_seconds: int = 3600
    lateness_seconds: int = 2 * 3600
    tick_windows: int = 3
    active_days: float = 14.0
    retention_days: float = 30.0
    top_k: int = 4
    new_model_days: float = 2.0
    min_case_accounts: int = 3
    threshold: float = 0.7
    lockstep_windows: int = 3
    linkage: LinkageConfig = field(default_factory=LinkageConfig)
    # Sign-up programmes of accounts that call for customers of their own (resellers,
    # gateways): their records' end users are counted as entities (``Engine.add``).
    gateway_programs: tuple[str, ...] = ("reseller", "gateway")
