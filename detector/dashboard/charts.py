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
    timeline: Sequence[Mapping[str, object]], releases: Mapping[str, str] | None = None
) -> Markup:
    """Records per day as bars, with a dashed line at each model release in range."""
    days = [(date.fromisoformat(str(p["day"])), int(str(p.get("records", 0)))) for p in timeline]
    if not days:
        return _empty("no daily volume recorded")
    days.sort()
    first, last = days[0][0], days[-1][0]
    span = (last - first).days + 1
    peak = max(count for _, count in days) or 1
    plot_h, top, left = 140, 16, 48
    step = (WIDTH - left) / span
    parts = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{WIDTH}" y2="{top + plot_h}" class="axis"/>',
        f'<text x="{left - 4}" y="{top + 8}" class="val end">{peak:,}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" class="val end">0</text>',
    ]
    for day, count in days:
        x = left + (day - first).days * step
        h = plot_h * count / peak
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{max(step - 1, 1):.1f}" '
            f'height="{h:.1f}" class="case"><title>{day.isoformat()}: {count:,}</title></rect>'
        )
    for model, when in sorted((releases or {}).items(), key=lambda item: item[1]):
        try:
            released = date.fromisoformat(when[:10])
        except ValueError:
            continue
        if first <= released <= last:
            x = left + (released - first).days * step
            parts.append(
                f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{top + plot_h}" '
                f'class="marker"/><text x="{x + 3:.1f}" y="{top}" class="val marker-label">'
                f"{escape(model)} released</text>"
            )
    parts.append(
        f'<text x="{left}" y="{top + plot_h + 14}" class="val">{first.isoformat()}</text>'
        f'<text x="{WIDTH}" y="{top + plot_h + 14}" class="val end">{last.isoformat()}</text>'
    )
    return _svg(top + plot_h + 20, "".join(parts), "Records per day")


def signup_histogram(bins: Sequence[tuple[datetime, int]], *, hourly: bool) -> Markup:
    """Accounts created per hour or per day, from ``(bin start, count)`` pairs."""
    if not bins:
        return _empty("no sign-up times known for these accounts")
    unit = timedelta(hours=1) if hourly else timedelta(days=1)
    start = _floor(min(moment for moment, _ in bins), hourly)
    counts = {int((_floor(moment, hourly) - start) / unit): count for moment, count in bins}
    count_bins = max(counts) + 1
    peak = max(counts.values())
    plot_h, top, left = 100, 10, 48
    step = (WIDTH - left) / count_bins
    parts = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{WIDTH}" y2="{top + plot_h}" class="axis"/>',
        f'<text x="{left - 4}" y="{top + 8}" class="val end">{peak:,}</text>',
    ]
    fmt = "%Y-%m-%d %H:00" if hourly else "%Y-%m-%d"
    for index, count in sorted(counts.items()):
        x = left + index * step
        h = plot_h * count / peak
        when = (start + index * unit).strftime(fmt)
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{max(step - 1, 1):.1f}" '
            f'height="{h:.1f}" class="burst"><title>{when}: {count:,}</title></rect>'
        )
    per = "hour" if hourly else "day"
    parts.append(
        f'<text x="{left}" y="{top + plot_h + 14}" class="val">{start.strftime(fmt)}</text>'
        f'<text x="{WIDTH}" y="{top + plot_h + 14}" class="val end">sign-ups per {per}</text>'
    )
    return _svg(top + plot_h + 20, "".join(parts), f"Accounts created per {per}")


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
