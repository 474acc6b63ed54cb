"""Settings: the one place that reads the environment (prefix ``DETECTOR_``)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def available_cores() -> int:
    """The cores this process may use: its CPU affinity, capped by a cgroup v2 CPU
    quota (a container's ``cpus:``), which affinity does not show."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cores = min(cores or 1, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores or 1)


class Settings(BaseSettings):
    """Every knob of the service. Secrets are ``SecretStr`` so they never print."""

    model_config = SettingsConfigDict(env_prefix="DETECTOR_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str | None = None
    api_tokens: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default=1, ge=1)
    log_level: str = "info"
    # Processes that validate and store batches (detector/api/ingest_pool.py). Unset:
    # one per core when a single server process runs, none (each server process
    # validates on its own threads) with several; 0: none.
    ingest_processes: int | None = Field(default=None, ge=0)
    # How long a SQLite writer waits for another's lock before the batch gets a 503.
    sqlite_busy_timeout: float = Field(default=30.0, gt=0)
    # "json": one JSON object a line, with request ids (docs/operations.md); "text": plain.
    log_format: Literal["json", "text"] = "json"

    # Ingest limits. A body is checked before and after gzip, so a small
    # compressed body cannot expand past max_body_bytes.
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    max_records_per_batch: int = Field(default=50_000, ge=1)
    # Largest body of every other request (decisions, the dashboard's forms): a
    # decision's note is at most 10,000 characters, six JSON bytes each at worst.
    max_request_bytes: int = Field(default=256 * 1024, ge=1024)
    max_string_chars: int = Field(default=1024, ge=16)
    max_prompt_chars: int = Field(default=65_536, ge=16)
    max_list_items: int = Field(default=256, ge=1)
    max_attributes: int = Field(default=64, ge=0)
    max_attribute_chars: int = Field(default=1024, ge=1)
    # Event times (ts_start, ts_end, created_at) later than this after a batch is
    # received are refused: one record dated years ahead would move the watermark.
    max_future_skew_seconds: float = Field(default=3600, ge=0)

    # Keyed hashing of prompt text into fingerprints (CONTRACT §1). Senders who
    # hash on their side use the same key.
    fingerprint_key: SecretStr = SecretStr("detector-default-fingerprint-key")
    keep_prompt_text: bool = False
    # OTLP spans and LiteLLM payloads that name no caller: stored under an explicit
    # ``unattributed:<service>:<sender>`` account (detector/ingest/identity.py), or refused.
    identity_fallback: bool = True

    # Review dashboard (docs/dashboard.md). Cookies are marked Secure when the
    # dashboard is served over TLS; plain loopback HTTP needs this off.
    session_hours: float = Field(default=12.0, gt=0)
    cookie_secure: bool = False
    # Enforcement webhook: every decision is POSTed here, signed with the secret
    # (HMAC-SHA256), and retried with exponential backoff until delivered.
    webhook_url: str | None = None
    webhook_secret: SecretStr = SecretStr("")
    webhook_max_attempts: int = Field(default=8, ge=1)
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    # First retry after this many seconds, doubling each time up to five minutes.
    webhook_backoff_seconds: float = Field(default=1.0, gt=0)
    # Model releases drawn as markers on a case's daily volume: model name → ISO date,
    # as JSON, e.g. DETECTOR_MODEL_RELEASES='{"claude-opus-4-6": "2026-02-05"}'.
    model_releases: dict[str, str] = Field(default_factory=dict)

    # Detection pipeline (docs/detection.md). Embedded: a child process of `detector
    # serve` runs it; off when a separate `detector worker` process does.
    pipeline_embedded: bool = True
    # nice(1) increment of the embedded pipeline's process: ingest gets the cores
    # first while both want them (docs/operations.md).
    pipeline_nice: int = Field(default=10, ge=0, le=19)
    pipeline_window_seconds: int = Field(default=3600, ge=60)
    pipeline_lateness_seconds: int = Field(default=7200, ge=0)
    pipeline_tick_windows: int = Field(default=3, ge=1)
    pipeline_threshold: float = Field(default=0.7, gt=0, lt=1)
    pipeline_checkpoint_seconds: float = Field(default=30.0, gt=0)
    pipeline_chunk_records: int = Field(default=250_000, ge=1)
    # A worker that dies keeps the lease this long; another may then take over.
    pipeline_lease_seconds: float = Field(default=60.0, gt=0)
    pipeline_poll_seconds: float = Field(default=1.0, gt=0)
    # Work pending this long with no checkpoint for as long: the pipeline is stalled
    # (``/readyz`` answers 503, ``detector_pipeline_stalled`` is 1).
    pipeline_stall_seconds: float = Field(default=300.0, gt=0)
    # An open case whose cluster stays under the threshold (or is gone) for this many
    # days of event time, with no reviewer decision, is cleared from the queue.
    case_clear_after_days: float = Field(default=7.0, gt=0)

    # Scaled-out deployment (docs/operations.md): ingest also writes every committed
    # segment here as a `.json.zst` file, the event log a distributed job reads.
    segment_export_dir: Path | None = None

    @field_validator("api_tokens", mode="before")
    @classmethod
    def _split_tokens(cls, value: object) -> object:
        if isinstance(value, str):
            return [token.strip() for token in value.split(",") if token.strip()]
        return value

    @property
    def resolved_ingest_processes(self) -> int:
        if self.ingest_processes is not None:
            return self.ingest_processes
        return available_cores() if self.workers == 1 else 0

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'detector.db').resolve()}"

    def token_values(self) -> list[str]:
        return [token.get_secret_value() for token in self.api_tokens]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
