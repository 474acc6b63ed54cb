"""Builds the pipeline runner from settings: the one place the API and CLI get it."""

from __future__ import annotations

from sqlalchemy import Engine as SqlEngine

from detector.config import Settings
from detector.pipeline.engine import EngineConfig
from detector.pipeline.runner import PipelineRunner


def engine_config(settings: Settings) -> EngineConfig:
    return EngineConfig(
        window_seconds=settings.pipeline_window_seconds,
        lateness_seconds=settings.pipeline_lateness_seconds,
        tick_windows=settings.pipeline_tick_windows,
        threshold=settings.pipeline_threshold,
    )


def make_runner(db: SqlEngine, settings: Settings) -> PipelineRunner:
    config = engine_config(settings)
    return PipelineRunner(
        db=db,
        config=config,
        checkpoint_seconds=settings.pipeline_checkpoint_seconds,
        chunk_records=settings.pipeline_chunk_records,
        lease_seconds=settings.pipeline_lease_seconds,
        clear_after_days=settings.case_clear_after_days,
    )
