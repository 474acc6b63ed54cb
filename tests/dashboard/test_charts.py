"""The inline SVG charts: pure functions from numbers to escaped markup."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

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


def test_daily_volume_has_ticks_marks_opening_and_decision_and_says_its_span() -> None:
    timeline = [
        {"day": (date(2026, 2, 1) + timedelta(days=d)).isoformat(), "records": 900 + d}
        for d in range(30)
    ]
    svg = charts.daily_volume(
        timeline,
        {},
        opened=date(2026, 1, 8),
        decided=[date(2026, 2, 20)],
        retention_days=30,
    )
    # The axis runs to a round 1,000 through ticks, not just 0 and the peak.
    assert all(f">{tick}</text>" in svg for tick in ("0", "200", "400", "600", "800", "1,000"))
    assert svg.count('class="marker decided"') == 1 and "decided" in svg
    # The case opened before the first day kept: the chart says so, and why.
    assert "the case opened 2026-01-08, before the first day shown" in svg
    assert "the pipeline keeps 30 days of daily volume" in svg
    inside = charts.daily_volume(timeline, {}, opened=date(2026, 2, 3))
    assert inside.count('class="marker opened"') == 1 and "before the first day" not in inside


def test_signup_histogram_draws_hours_or_days_against_everyone_else() -> None:
    hourly = charts.signup_histogram(
        [(DAY0, 5), (DAY0 + timedelta(hours=3), 40)],
        hourly=True,
        baseline=[(DAY0, 7), (DAY0 + timedelta(days=5), 99)],
    )
    assert "per hour" in hourly and hourly.count('class="burst"><title>') == 2
    assert "of this case" in hourly and ": 40 of this case" in hourly
    # Other accounts' sign-ups in the same hours are drawn; those outside the span are not.
    assert ": 7 other accounts" in hourly and "99" not in hourly
    assert ">50</text>" in hourly  # the axis top over a peak of 40
    daily = charts.signup_histogram([(DAY0, 3), (DAY0 + timedelta(days=9), 1)], hourly=False)
    assert "per day" in daily and "2026-02-10: 1" in daily
    assert "no sign-up times" in charts.signup_histogram([], hourly=False)
