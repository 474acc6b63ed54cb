"""The case page reads the pipeline's context from a case's features: the population's
capability mix (``pop_``) and first-seen times of released models (``release_``)."""

from __future__ import annotations

from datetime import UTC, datetime

from detector.dashboard import charts
from detector.dashboard.routes.case import model_releases, population_mix

SEEN = datetime(2026, 2, 5, 13, 30, tzinfo=UTC).timestamp()


def test_first_seen_models_become_release_markers_and_the_setting_wins() -> None:
    features = {"lockstep": 0.9, "release_model-b": SEEN, "release_model-c": SEEN, "pop_chat": 0.5}
    releases = model_releases(features, {"model-c": "2026-02-07"})
    assert releases == {"model-b": "2026-02-05", "model-c": "2026-02-07"}
    assert model_releases({"lockstep": 0.9}, {}) == {}
    timeline = [{"day": f"2026-02-{d:02d}", "records": 100} for d in range(1, 11)]
    svg = charts.daily_volume(timeline, releases)
    assert svg.count('class="marker"') == 2 and "model-b released" in svg


def test_population_mix_reads_only_pop_features() -> None:
    features = {"pop_chat": 0.5, "pop_coding": 0.25, "release_model-b": SEEN, "share_chat": 1.0}
    assert population_mix(features) == {"chat": 0.5, "coding": 0.25}
