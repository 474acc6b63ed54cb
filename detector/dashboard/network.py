"""A case as a network: its accounts and the shared values that tie them (cards, IP
prefixes, clients, scaffolds, sign-up hours), drawn server-side as SVG.

Values sit in a column on the left, strongest ties first (most accounts of the case);
accounts fill a grid on the right, ordered by the first value that ties them, so the
lines of one value run together. Every node links to its page; hashes are cut short
and carry the whole value in their title. Pure functions of the case's ``shared``
JSON and its sign-up groups: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from detector.dashboard.labels import signature_label

KIND_LABELS = {
    "payment": "card",
    "ip_prefix": "IP prefix",
    "client": "client",
    "template": "prompt template",
    "system": "system prompt",
    "tools": "tool schema",
    "api_key": "API key",
    "signup": "sign-up hour",
}


@dataclass(slots=True)
class Tie:
    kind: str
    value: str
    accounts: list[str]
    in_case: int
    platform: int | None
    others: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def short(self) -> str:
        keep = 22 if self.kind in ("client", "tools", "ip_prefix", "signup") else 10
        return self.value if len(self.value) <= keep + 1 else self.value[:keep] + "…"

    @property
    def href(self) -> str:
        return f"/dashboard/shared/{quote(self.kind, safe='')}?value={quote(self.value, safe='')}"


def ties(
    shared: Mapping[str, Sequence[Mapping[str, Any]]],
    signups: Sequence[tuple[str, list[str], int, int]] = (),
    limit: int = 24,
) -> list[Tie]:
    """The case's ties, strongest first: each shared value with the accounts of the
    case holding it, plus each sign-up hour that three or more of its accounts share
    (``(hour label, accounts, count, every account that signed up in it)``)."""
    found = [
        Tie(
            kind=kind,
            value=str(item.get("value", "")),
            accounts=list(item.get("account_ids") or []),
            in_case=int(item.get("accounts", 0)),
            platform=None
            if item.get("platform_accounts") is None
            else int(item["platform_accounts"]),
            others=list(item.get("other_account_ids") or []),
        )
        for kind, values in shared.items()
        for item in values
    ]
    found += [
        Tie(kind="signup", value=hour, accounts=accounts, in_case=count, platform=everyone)
        for hour, accounts, count, everyone in signups
        if count >= 3
    ]
    found.sort(key=lambda t: (-t.in_case, t.platform or 0, t.kind, t.value))
    return found[:limit]


def draw(found: Sequence[Tie], *, blocked: frozenset[str] = frozenset(), shown: int = 80) -> Markup:
    """The SVG: values left, accounts right, a line for each tie."""
    if not found:
        return Markup('<p class="muted">No shared values recorded for this case.</p>')
    order: dict[str, int] = {}
    for tie in found:
        for account in tie.accounts:
            if account not in order and len(order) < shown:
                order[account] = len(order)
    row_h, left_w, top = 26, 430, 20
    cols = max(1, min(4, -(-len(order) // 24)))
    per_col = max(1, -(-len(order) // cols))
    col_w = 170
    height = top + max(len(found), per_col) * row_h + 10
    width = left_w + 80 + cols * col_w
    where = {
        account: (left_w + 80 + (i // per_col) * col_w, top + (i % per_col) * row_h)
        for account, i in order.items()
    }
    lines, nodes = [], []
    for index, tie in enumerate(found):
        y = top + index * row_h
        for account in tie.accounts:
            if account in where:
                ax, ay = where[account]
                lines.append(
                    f'<line x1="{left_w}" y1="{y}" x2="{ax}" y2="{ay}" '
                    f'class="tie kind-{escape(tie.kind)}"/>'
                )
        platform = "" if tie.platform is None else f" · {tie.platform:,} platform"
        nodes.append(
            f'<a href="{escape(tie.href)}"><title>{escape(tie.label)}: {escape(tie.value)} — '
            f"{tie.in_case:,} accounts of the case{escape(platform)}</title>"
            f'<circle cx="{left_w}" cy="{y}" r="7" class="val kind-{escape(tie.kind)}"/>'
            f'<text x="{left_w - 12}" y="{y + 4}" text-anchor="end">'
            f"{escape(tie.label)} {escape(tie.short)} ({tie.in_case:,}{escape(platform)})"
            "</text></a>"
        )
    for account, (x, y) in where.items():
        kind = "acct blocked" if account in blocked else "acct"
        nodes.append(
            f'<a href="/dashboard/accounts/{quote(account, safe="")}"><title>{escape(account)}'
            f"{' (blocked)' if account in blocked else ''}</title>"
            f'<circle cx="{x}" cy="{y}" r="5" class="{kind}"/>'
            f'<text x="{x + 9}" y="{y + 4}">{escape(account[:18])}</text></a>'
        )
    return Markup(  # noqa: S704  (every label above is escaped; numbers are ours)
        f'<svg class="network" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Accounts of the case and the values they share" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(lines)}{"".join(nodes)}</svg>'
    )


def kind_title(kind: str) -> str:
    return KIND_LABELS.get(kind, signature_label(kind))


def _count(value: Any) -> int | None:
    return None if value is None else int(value)
