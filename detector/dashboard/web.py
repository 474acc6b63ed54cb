"""Rendering: one Jinja2 environment with autoescaping on, and the response headers
every dashboard page carries."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from detector.dashboard.labels import (
    action_label,
    capability_label,
    plural,
    signature_label,
    status_label,
)

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"

# Pages load only their own stylesheet and script; charts are inline SVG, so no
# inline script or style attribute is ever needed, and an injected one would not run.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def _when(moment: datetime | None, style: str = "minute") -> str:
    if moment is None:
        return "—"
    return moment.strftime("%Y-%m-%d" if style == "day" else "%Y-%m-%d %H:%M UTC")


def _age(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in the largest whole unit: "5 min", "3 h", "2 d"."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; they hold UTC
        moment = moment.replace(tzinfo=UTC)
    seconds = max(0.0, ((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def _short(value: str, keep: int = 12) -> str:
    """A long hash cut to its head; the template puts the whole value in a title."""
    return value if len(value) <= keep + 1 else value[:keep] + "…"


def _percent(share: float) -> str:
    return f"{share:.0%}"


environment = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["when"] = _when
environment.filters["percent"] = _percent
environment.filters["thousands"] = lambda number: f"{int(number):,}"
environment.filters["signature"] = signature_label
environment.filters["capability"] = capability_label
environment.filters["status"] = status_label
environment.filters["action"] = action_label
environment.filters["age"] = _age
environment.filters["short"] = _short
environment.globals["plural"] = plural


def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The named template as an HTML response with the dashboard's security headers."""
    html = environment.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
