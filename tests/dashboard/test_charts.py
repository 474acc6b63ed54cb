"""The inline SVG charts: pure functions from numbers to escaped markup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detector.dashboard import charts

DAY0 = datetime(2026, 2, 1, tzinfo=UTC)


def test_capability_bars_compare_with_the_population_and_escape_names() -> None:
    svg = charts.capability_bars({"coding": 0.8, "<b>x</b>": 0.2}, {"coding": 0.1})
    assert svg.startswith("<svg") and "80%" in svg and "10%" in svg
    assert "honest population" in svg
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg
    without = charts.capability_bars({"coding": 1.0}, {})
    assert "population mix not available" in without


def test_daily_volume_marks_a_release_inside_the_range_only() -> None:
    timeline = [{"day": f"2026-02-{d:02d}", "records": d * 100} for d in range(1, 11)]
    marked = charts.daily_volume(
        timeline, {"model-<new>": "2026-02-05", "old": "2025-01-01", "bad": "soon"}
    )
    assert marked.count('class="marker"') == 1
    assert "model-&lt;new&gt; released" in marked
    assert marked.count("<rect") == 10 and "1,000" in marked
    assert "no daily volume" in charts.daily_volume([], {})


def test_signup_histogram_draws_hours_or_days() -> None:
    hourly = charts.signup_histogram([(DAY0, 5), (DAY0 + timedelta(hours=3), 40)], hourly=True)
    assert "per hour" in hourly and hourly.count("<rect") == 2 and ">40<" in hourly
    daily = charts.signup_histogram([(DAY0, 3), (DAY0 + timedelta(days=9), 1)], hourly=False)
    assert "per day" in daily and "2026-02-10: 1" in daily
    assert "no sign-up times" in charts.signup_histogram([], hourly=False)
