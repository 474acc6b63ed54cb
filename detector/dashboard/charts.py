"""Small charts drawn server-side as inline SVG: no script, no CDN, works air-gapped.

Pure functions from numbers to markup. Every label passes through ``escape``; the
numbers are formatted by us, so nothing a log sender wrote reaches the SVG unescaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from html import escape

from markupsafe import Markup

WIDTH = 640
BAR_HEIGHT = 18


def capability_bars(case_mix: Mapping[str, float], population: Mapping[str, float]) -> Markup:
    """One row per capability: the case's share over the honest population's."""
    names = sorted(set(case_mix) | set(population), key=lambda n: -float(case_mix.get(n, 0)))
    if not names:
        return _empty("no capability mix recorded")
    label_w, bar_w = 170, WIDTH - 230
    row_h = BAR_HEIGHT * 2 + 8
    parts = []
    for i, name in enumerate(names):
        y = i * row_h
        case_share = float(case_mix.get(name, 0.0))
        pop_share = float(population.get(name, 0.0))
        parts.append(
            f'<text x="0" y="{y + BAR_HEIGHT - 4}" class="lbl">{escape(name)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{bar_w * case_share:.1f}" '
            f'height="{BAR_HEIGHT - 2}" class="case"/>'
            f'<text x="{label_w + bar_w * case_share + 4:.1f}" y="{y + BAR_HEIGHT - 4}" '
            f'class="val">{case_share:.0%}</text>'
        )
        if population:
            parts.append(
                f'<rect x="{label_w}" y="{y + BAR_HEIGHT}" width="{bar_w * pop_share:.1f}" '
                f'height="{BAR_HEIGHT - 6}" class="pop"/>'
                f'<text x="{label_w + bar_w * pop_share + 4:.1f}" y="{y + BAR_HEIGHT * 2 - 8}" '
                f'class="val muted">{pop_share:.0%}</text>'
            )
    legend = (
        '<rect x="0" y="0" width="10" height="10" class="case"/>'
        '<text x="14" y="9" class="val">this case</text>'
        '<rect x="90" y="0" width="10" height="10" class="pop"/>'
        '<text x="104" y="9" class="val">honest population</text>'
        if population
        else '<text x="0" y="9" class="val muted">population mix not available</text>'
    )
    height = len(names) * row_h + 20
    body = "".join(parts)
    return _svg(
        height,
        f'<g transform="translate(0,20)">{body}</g><g>{legend}</g>',
        "Capability mix of the case against the honest population",
    )


def daily_volume(
    timeline: Sequence[Mapping[str, object]],
    releases: Mapping[str, str] | None = None,
    *,
    opened: date | None = None,
    decided: Sequence[date] = (),
    retention_days: int | None = None,
) -> Markup:
    """Records per day as bars, with y-axis ticks, a dashed line at each model
    release in range, and the days the case opened and was decided marked. The span
    is said under the chart, with what lies outside it: the pipeline keeps
    ``retention_days`` of daily volume, so an older case's first days are gone."""
    days = [(date.fromisoformat(str(p["day"])), int(str(p.get("records", 0)))) for p in timeline]
    if not days:
        return _empty("no daily volume recorded")
    days.sort()
    first, last = days[0][0], days[-1][0]
    span = (last - first).days + 1
    peak = max(count for _, count in days) or 1
    plot_h, top, left = 140, 22, 56
    step = (WIDTH - left) / span
    parts = _y_ticks(peak, left=left, top=top, plot_h=plot_h)
    for day, count in days:
        x = left + (day - first).days * step
        h = plot_h * count / _nice_top(peak)
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{max(step - 1, 1):.1f}" '
            f'height="{h:.1f}" class="case"><title>{day.isoformat()}: {count:,} records'
            "</title></rect>"
        )
    marks = [(d, f"{escape(model)} released", "marker") for model, d in _releases(releases)]
    if opened is not None:
        marks.append((opened, "case opened", "marker opened"))
    marks += [(moment, "decided", "marker decided") for moment in decided]
    for when, label, kind in marks:
        if first <= when <= last:
            x = left + (when - first).days * step + step / 2
            parts.append(
                f'<line x1="{x:.1f}" y1="{top - 8}" x2="{x:.1f}" y2="{top + plot_h}" '
                f'class="{kind}"/><text x="{x + 3:.1f}" y="{top - 10}" '
                f'class="val {kind.split()[-1]}-label">{label}</text>'
            )
    parts.append(
        f'<text x="{left}" y="{top + plot_h + 14}" class="val">{first.isoformat()}</text>'
        f'<text x="{WIDTH}" y="{top + plot_h + 14}" class="val end">{last.isoformat()}</text>'
    )
    note = f"Records per day, {first.isoformat()} to {last.isoformat()} ({span} days)"
    if opened is not None and opened < first:
        note += f"; the case opened {opened.isoformat()}, before the first day shown"
        if retention_days:
            note += f" (the pipeline keeps {retention_days} days of daily volume)"
    elif retention_days and span >= retention_days:
        note += f"; the pipeline keeps the last {retention_days} days"
    chart = _svg(top + plot_h + 20, "".join(parts), note)
    return chart + Markup('<p class="chart-note muted small">{}.</p>').format(note)


def _releases(releases: Mapping[str, str] | None) -> list[tuple[str, date]]:
    found = []
    for model, when in sorted((releases or {}).items(), key=lambda item: item[1]):
        try:
            found.append((model, date.fromisoformat(when[:10])))
        except ValueError:
            continue
    return found


def _nice_top(peak: int) -> int:
    """The axis top: the peak rounded up to 1, 2 or 5 times a power of ten."""
    if peak <= 5:
        return max(peak, 1)
    magnitude: int = 10 ** (len(str(peak)) - 1)
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= peak:
            return factor * magnitude
    return 10 * magnitude


def _y_ticks(peak: int, *, left: int, top: int, plot_h: int) -> list[str]:
    """The axis line and gridlines with their labels from 0 to ``_nice_top(peak)``,
    in whole steps: fifths of a top of 1 or 5 times ten, quarters of 2 times ten."""
    highest = _nice_top(peak)
    ticks = highest if highest <= 5 else (4 if str(highest)[0] == "2" else 5)
    parts = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{WIDTH}" y2="{top + plot_h}" class="axis"/>'
    ]
    for i in range(ticks + 1):
        y = top + plot_h - plot_h * i / ticks
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" class="val end">{highest * i // ticks:,}</text>'
        )
    return parts


def signup_histogram(
    bins: Sequence[tuple[datetime, int]],
    *,
    hourly: bool,
    baseline: Sequence[tuple[datetime, int]] = (),
) -> Markup:
    """Accounts of the case created per hour or per day, from ``(bin start, count)``
    pairs, over the sign-ups of every other account in the same bins (``baseline``),
    on one y-axis with ticks: a burst is a burst only against what else signed up."""
    if not bins:
        return _empty("no sign-up times known for these accounts")
    unit = timedelta(hours=1) if hourly else timedelta(days=1)
    start = _floor(min(moment for moment, _ in bins), hourly)
    counts = {int((_floor(moment, hourly) - start) / unit): count for moment, count in bins}
    others = {
        index: count
        for moment, count in baseline
        if 0 <= (index := int((_floor(moment, hourly) - start) / unit)) <= max(counts)
    }
    count_bins = max(counts) + 1
    peak = max([*counts.values(), *others.values()])
    plot_h, top, left = 100, 10, 56
    step = (WIDTH - left) / count_bins
    highest = _nice_top(peak)
    parts = _y_ticks(peak, left=left, top=top, plot_h=plot_h)
    fmt = "%Y-%m-%d %H:00" if hourly else "%Y-%m-%d"
    width = max(step - 1, 1)
    for index in range(count_bins):
        x = left + index * step
        when = (start + index * unit).strftime(fmt)
        other = others.get(index, 0)
        mine = counts.get(index, 0)
        if other:
            h = plot_h * other / highest
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{width / 2:.1f}" '
                f'height="{h:.1f}" class="pop"><title>{when}: {other:,} other accounts'
                "</title></rect>"
            )
        if mine:
            h = plot_h * mine / highest
            parts.append(
                f'<rect x="{x + width / 2:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{width / 2:.1f}" height="{h:.1f}" class="burst">'
                f"<title>{when}: {mine:,} of this case</title></rect>"
            )
    per = "hour" if hourly else "day"
    parts.append(
        f'<text x="{left}" y="{top + plot_h + 14}" class="val">{start.strftime(fmt)}</text>'
        f'<text x="{WIDTH}" y="{top + plot_h + 14}" class="val end">'
        f"{(start + (count_bins - 1) * unit).strftime(fmt)}</text>"
        f'<rect x="{left}" y="{top + plot_h + 22}" width="10" height="10" class="burst"/>'
        f'<text x="{left + 14}" y="{top + plot_h + 31}" class="val">this case, per {per}</text>'
        f'<rect x="{left + 150}" y="{top + plot_h + 22}" width="10" height="10" class="pop"/>'
        f'<text x="{left + 164}" y="{top + plot_h + 31}" class="val">'
        f"every other account, same {per}</text>"
    )
    return _svg(top + plot_h + 38, "".join(parts), f"Accounts created per {per}")


def _floor(moment: datetime, hourly: bool) -> datetime:
    moment = moment.astimezone(UTC)
    if hourly:
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _svg(height: int, body: str, title: str) -> Markup:
    return Markup(  # noqa: S704  (every label above is escaped; numbers are ours)
        f'<svg class="chart" viewBox="0 0 {WIDTH + 40} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def _empty(message: str) -> Markup:
    return Markup('<p class="muted">{}</p>').format(message)
