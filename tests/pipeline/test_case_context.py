"""What a case carries besides its own features: the population's capability mix
(``pop_<capability>``) and the first-seen times of models released mid-stream
(``release_<model>``); and the runner times every closed window."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest
from sqlalchemy import Engine as SqlEngine

from detector.features.capability import CAPABILITIES
from detector.features.frames import RECORD_SCHEMA, narrow
from detector.observability.metrics import REGISTRY
from detector.pipeline.engine import META_SCHEMA, Engine, EngineConfig
from detector.pipeline.runner import PipelineRunner
from tests.pipeline.traffic import HOUR, START, Traffic


def test_cases_carry_the_population_mix_and_model_releases(traffic: Traffic) -> None:
    records = narrow(pl.from_dicts(traffic.records, schema=RECORD_SCHEMA))
    # Honest accounts move to a model first seen 30 hours into the stream.
    released = START + 30 * HOUR
    moved = (pl.col("ts") >= released) & pl.col("account_id").is_in(sorted(traffic.honest))
    records = records.with_columns(
        pl.when(moved).then(pl.lit("model-b")).otherwise(pl.col("model")).alias("model")
    )
    engine = Engine(config=EngineConfig(new_model_days=0.5))
    engine.set_meta(pl.from_dicts(traffic.accounts, schema=META_SCHEMA))
    engine.add(records)
    updates = engine.advance(flush=True)
    assert updates
    last = updates[-1]
    assert last.account_count == len(traffic.campaign)

    # The population is every active account outside the cases.
    honest = records.filter(~pl.col("account_id").is_in(sorted(traffic.campaign)))
    for name in CAPABILITIES:
        expected = round(float(honest[f"cap_{name}"].mean()), 4)  # type: ignore[arg-type]
        assert last.features[f"pop_{name}"] == pytest.approx(expected, abs=1e-4)
    assert last.capability_mix["cot_elicitation"] > last.features["pop_cot_elicitation"] + 0.3

    # model-a was there from the start: not a release. model-b is, from the update
    # after it first appeared.
    first_b = float(records.filter(pl.col("model") == "model-b")["ts"].min())  # type: ignore[arg-type]
    assert "release_model-a" not in last.features
    assert last.features["release_model-b"] == first_b
    assert engine.released_models() == {"model-b": first_b}
    before = [u for u in updates if u.event_time <= released]
    assert before and all("release_model-b" not in u.features for u in before)


def _windows_observed() -> float:
    return REGISTRY.get_sample_value("detector_pipeline_window_seconds_count") or 0.0


@pytest.mark.db
def test_the_runner_times_every_closed_window(
    engine: SqlEngine, ingest: Callable[[Traffic, int], None], traffic: Traffic
) -> None:
    ingest(traffic, 5000)
    before = _windows_observed()
    runner = PipelineRunner(db=engine)
    runner.run_until_idle(flush=True)
    assert runner.engine_ is not None
    closed = runner.engine_.windows_closed
    assert closed >= 47
    assert _windows_observed() - before == closed
