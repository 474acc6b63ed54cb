"""Small seeded traffic for pipeline tests: honest accounts, look-alikes and one
coordinated campaign, as canonical record and account dicts."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z, a Thursday
HOUR = 3600.0


@dataclass
class Traffic:
    records: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    campaign: set[str] = field(default_factory=set)
    honest: set[str] = field(default_factory=set)


def make_traffic(
    *, seed: int = 1, hours: int = 48, honest: int = 40, campaign: int = 12
) -> Traffic:
    """Records sorted by event time; the campaign shares payment instruments, a client
    string and two /24s, asks for reasoning written out and load-balances in lockstep."""
    rng = random.Random(seed)
    out = Traffic()
    n = 0

    def record(account: str, ts: float, **fields: Any) -> None:
        nonlocal n
        n += 1
        out.records.append(
            {
                "event_id": f"e{n}",
                "ts_start": round(ts, 3),
                "account_id": account,
                "request_model": "model-a",
                **fields,
            }
        )

    for i in range(honest):
        account = f"h{i:03d}"
        out.honest.add(account)
        out.accounts.append(
            {
                "account_id": account,
                "created_at": START - rng.uniform(30, 400) * 86_400,
                "org_id": f"org-h{i}",
                "payment_fingerprint": f"pay-h{i}",
                "signup_ip": f"10.{i}.{rng.randrange(256)}.1",
                "program": "standard",
            }
        )
        ip = f"172.{16 + i % 16}.{i}.{rng.randrange(2, 250)}"
        ua = rng.choice(["anthropic-python/0.40", "openai-python/1.50", f"app-{i}/2.0"])
        for h in range(hours):
            local = h % 24
            if not 8 <= local < 18:
                continue
            for _ in range(rng.randrange(0, 6)):
                record(
                    account,
                    START + h * HOUR + rng.uniform(0, HOUR),
                    client_ip=ip,
                    user_agent=ua,
                    org_id=f"org-h{i}",
                    input_tokens=1000,
                    cache_read_input_tokens=rng.choice([0, 400, 800]),
                    output_tokens=rng.randrange(50, 800),
                    system_fingerprint=f"sys-h{i % 7}",
                    template_fingerprint=f"t-h{rng.randrange(10_000)}",
                    prompt_fingerprint=f"p-h{rng.randrange(10**9)}",
                    content_flags=rng.choice([None, ["code"]]),
                )
    pays = ["pay-c1", "pay-c2", "pay-c3"]
    members = [f"c{i:03d}" for i in range(campaign)]
    out.campaign.update(members)
    for i, account in enumerate(members):
        out.accounts.append(
            {
                "account_id": account,
                "created_at": START - 86_400 * (3 + i % 2),
                "payment_fingerprint": pays[i % 3],
                "signup_ip": f"198.51.100.{i}",
                "program": "edu",
            }
        )
    for h in range(hours):
        # Round-robin over the accounts: every account follows the campaign's rate.
        per_minute = [rng.randrange(0, 3) for _ in range(60)]
        for minute, count in enumerate(per_minute):
            for _ in range(count):
                for j, account in enumerate(members):
                    kind = rng.random()
                    record(
                        account,
                        START + h * HOUR + minute * 60 + rng.uniform(0, 59),
                        client_ip=f"203.0.{113 + j % 2}.{rng.randrange(2, 250)}",
                        user_agent="relay-sdk/0.9",
                        input_tokens=700,
                        cache_read_input_tokens=0,
                        output_tokens=1500,
                        reasoning_mode="high",
                        system_fingerprint="sys-analyst",
                        template_fingerprint=f"t-c{rng.randrange(5)}",
                        prompt_fingerprint=f"p-c{rng.randrange(10**9)}",
                        content_flags=["cot_elicitation"] if kind < 0.6 else ["rubric_grading"],
                    )
    out.records.sort(key=lambda r: (r["ts_start"], r["event_id"]))
    return out
