"""Customer populations that synth does not draw, written apart from it: a framework's
user base sharing its quick-start prompt, enterprises whose organisation is declared
only at sign-up, and a hydra operation spread over card farms that rotates a fresh
residential IP on every call and touches each of its task templates once or twice
per account. Seeded; records are canonical record dicts, as a log pipeline posts them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from detector.features.frames import principal

START = 1_772_409_600.0  # 2026-03-02T00:00:00Z, a Monday
HOUR = 3600.0
DAY = 86_400.0
COMMON_SDK = "openai-python/1.50.0"
SDKS = (COMMON_SDK, "anthropic-python/0.40.0", "curl/8.5.0", "langchain/0.3 openai-python/1.50.0")
OFFICE = (9, 18)


@dataclass
class Customers:
    records: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    # Account id (an end user's of a reseller as ``principal`` gives it) → population:
    # "honest", "framework", "enterprise", "hydra", "reseller", "reseller_user",
    # "reseller_campaign" or "company".
    kind: dict[str, str] = field(default_factory=dict)

    def of(self, kind: str) -> set[str]:
        return {a for a, k in self.kind.items() if k == kind}


@dataclass
class _Draw:
    rng: random.Random
    out: Customers
    days: int
    n: int = 0

    def account(self, account_id: str, kind: str, **meta: Any) -> None:
        self.out.kind[account_id] = kind
        created = meta.pop("created_at", START - self.rng.uniform(30, 700) * DAY)
        self.out.accounts.append({"account_id": account_id, "created_at": created, **meta})

    def call(self, account_id: str, ts: float, **fields: Any) -> None:
        self.n += 1
        self.out.records.append(
            {
                "event_id": f"x{self.n}",
                "ts_start": round(ts, 3),
                "account_id": account_id,
                "request_model": "model-a",
                **{k: v for k, v in fields.items() if v is not None},
            }
        )

    def office_times(self, per_day: float, tz: int) -> list[float]:
        """Calls in bunched sessions within local office hours, ``tz`` hours east of UTC."""
        times: list[float] = []
        for day in range(self.days):
            if day % 7 >= 5:
                continue
            calls = _poisson(self.rng, per_day)
            sessions = max(1, calls // 15)
            starts = [self.rng.uniform(*OFFICE) for _ in range(sessions)]
            for _ in range(calls):
                local = self.rng.choice(starts) + self.rng.uniform(0, 1.2)
                times.append(START + day * DAY + ((local - tz) % 24) * HOUR)
        return times

    def flat_times(self, per_day: float) -> list[float]:
        total = _poisson(self.rng, per_day * self.days)
        return [START + self.rng.uniform(0, self.days * DAY) for _ in range(total)]


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method is slow for large means; a rounded normal is close enough there.
    if mean > 30:
        return max(0, round(rng.gauss(mean, mean**0.5)))
    limit, k, p = 2.718281828459045**-mean, 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _ip(rng: random.Random, first: int) -> str:
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def _residential(rng: random.Random) -> str:
    """An exit of a residential proxy pool: any of millions of home networks."""
    return _ip(rng, rng.randrange(24, 90))


def make_customers(*, seed: int = 11, days: int = 5) -> Customers:
    rng = random.Random(seed)
    draw = _Draw(rng, Customers(), days)
    _honest(draw, 220)
    _framework(draw, 160)
    _enterprise(draw, "acme", 12, org_on_records=False, tz=1)
    _enterprise(draw, "globex", 10, org_on_records=True, tz=-5)
    _hydra(draw, farms=4, per_farm=30, templates=40, resold=0.35)
    _reseller(draw, end_users=600, campaign=30)
    _company_app(draw, employees=200)
    draw.out.records.sort(key=lambda r: (r["ts_start"], r["event_id"]))
    return draw.out


def _honest(draw: _Draw, count: int) -> None:
    rng = draw.rng
    for i in range(count):
        account = f"acct-{rng.randrange(10**8):08d}"
        draw.account(
            account,
            "honest",
            org_id=f"org-{account}",
            payment_fingerprint=f"card-{account}",
            signup_ip=_ip(rng, 100),
            country=rng.choice(["US", "DE", "IN", "BR", "JP", "FR"]),
        )
        ip, sdk = _ip(rng, 100), rng.choice(SDKS)
        app = f"sys-app-{i}" if rng.random() < 0.5 else None
        per_day = min(300.0, rng.paretovariate(1.3) * 4)
        for ts in draw.office_times(per_day, rng.randrange(-8, 10)):
            draw.call(
                account,
                ts,
                client_ip=ip,
                user_agent=sdk,
                system_fingerprint=app,
                template_fingerprint=f"t-{rng.randrange(10**9)}",
                input_tokens=2000,
                cache_read_input_tokens=rng.choice([0, 500, 1500]),
                output_tokens=rng.randrange(50, 900),
            )


def _framework(draw: _Draw, count: int) -> None:
    """Independent accounts running one agent framework: its system prompt, tools,
    client string and quick-start example, each account in its own timezone."""
    rng = draw.rng
    tools = ["bash", "read_file", "write_file", "search"]
    for _ in range(count):
        account = f"acct-{rng.randrange(10**8):08d}"
        draw.account(
            account,
            "framework",
            org_id=f"org-{account}",
            payment_fingerprint=f"card-{account}",
            signup_ip=_ip(rng, 101),
            country=rng.choice(["US", "GB", "CN", "KR", "ES", "NG"]),
        )
        ip = _ip(rng, 101)
        per_day = min(250.0, rng.paretovariate(1.2) * 6)
        for k, ts in enumerate(draw.office_times(per_day, rng.randrange(-10, 12))):
            quick_start = k < rng.randrange(3, 7)
            draw.call(
                account,
                ts,
                client_ip=ip,
                user_agent=f"agentkit/2.3 {COMMON_SDK}",
                system_fingerprint="sys-agentkit",
                tool_names=tools,
                template_fingerprint="t-agentkit-quickstart"
                if quick_start
                else f"t-{rng.randrange(10**9)}",
                input_tokens=6000,
                cache_read_input_tokens=rng.choice([0, 0, 1000]),
                output_tokens=rng.randrange(200, 2500),
                response_tool_call_names=["bash"],
            )


def _enterprise(draw: _Draw, org: str, count: int, *, org_on_records: bool, tz: int) -> None:
    """One organisation's accounts: one corporate card, one NAT, office hours, heavy
    cache reuse, one internal system prompt."""
    rng = draw.rng
    nat = _ip(rng, 198)
    for i in range(count):
        account = f"{org}-{i:03d}"
        draw.account(
            account,
            "enterprise",
            org_id=org,
            payment_fingerprint=f"card-{org}",
            signup_ip=nat,
            email_domain=f"{org}.example",
            program="enterprise",
        )
        for ts in draw.office_times(rng.uniform(60, 200), tz):
            draw.call(
                account,
                ts,
                client_ip=nat,
                user_agent=COMMON_SDK,
                org_id=org if org_on_records else None,
                system_fingerprint=f"sys-{org}-internal",
                tool_names=["bash", "edit"],
                template_fingerprint=f"t-{rng.randrange(10**9)}",
                input_tokens=10_000,
                cache_read_input_tokens=8_000,
                output_tokens=rng.randrange(500, 3000),
            )


def _hydra(draw: _Draw, *, farms: int, per_farm: int, templates: int, resold: float) -> None:
    """One operation over ``farms`` card farms: a fresh residential IP on nearly every
    call, a common SDK string, three system prompts, two tool schemas and a pool of
    task templates that each account touches once or twice; ``resold`` of each
    account's calls are real customers' traffic passed through."""
    rng = draw.rng
    schemas = [["bash", "edit", "grep", "run_tests"], ["browser", "click", "type", "screenshot"]]
    for farm in range(farms):
        wave = START - (10 + 3 * farm) * DAY
        card = f"card-{rng.randrange(16**6):06x}"
        for _ in range(per_farm):
            account = f"acct-{rng.randrange(10**8):08d}"
            draw.account(
                account,
                "hydra",
                payment_fingerprint=card,
                signup_ip=_ip(rng, 73),
                created_at=wave + rng.uniform(0, 6 * HOUR),
                email_domain="gmail.com",
                program=rng.choice(["standard", "startup"]),
            )
            for ts in draw.flat_times(24.0):
                if rng.random() < resold:
                    draw.call(
                        account,
                        ts,
                        client_ip=_residential(rng),
                        user_agent=COMMON_SDK,
                        template_fingerprint=f"t-{rng.randrange(10**9)}",
                        input_tokens=1500,
                        cache_read_input_tokens=rng.choice([0, 600]),
                        output_tokens=rng.randrange(50, 800),
                    )
                    continue
                draw.call(
                    account,
                    ts,
                    client_ip=_residential(rng),
                    user_agent=COMMON_SDK,
                    system_fingerprint=f"sys-op-{rng.randrange(3)}",
                    tool_names=rng.choice(schemas),
                    template_fingerprint=f"t-op-{rng.randrange(templates)}",
                    input_tokens=9000,
                    cache_read_input_tokens=rng.choice([0, 0, 0, 400]),
                    output_tokens=rng.randrange(2000, 6000),
                    response_tool_call_names=["bash"],
                    finish_reason="tool_use",
                )


def _reseller(draw: _Draw, *, end_users: int, campaign: int) -> None:
    """One verified reseller account calling from its own servers for its customers,
    each named by ``end_user_id``; a chain-of-thought extraction campaign runs through
    ``campaign`` of them. Its organisation is declared at sign-up only."""
    rng = draw.rng
    account = "resell-main"
    draw.account(
        account,
        "reseller",
        org_id="resell-co",
        payment_fingerprint="card-resell-co",
        signup_ip="192.0.2.10",
        program="reseller",
        verified=True,
    )
    gateway = {"client_ip": "192.0.2.10", "user_agent": "resell-gateway/3.1 " + COMMON_SDK}
    for i in range(end_users):
        user = f"cust-{rng.randrange(10**9):09d}"
        thief = i < campaign
        draw.out.kind[principal(account, user)] = "reseller_campaign" if thief else "reseller_user"
        if thief:
            for ts in draw.flat_times(14.0):
                draw.call(
                    account,
                    ts,
                    end_user_id=user,
                    api_key_id=f"key-{i % 3}",
                    **gateway,
                    system_fingerprint="sys-resell-assistant",
                    template_fingerprint=f"t-cot-{rng.randrange(6)}",
                    content_flags=["cot_elicitation"] if rng.random() < 0.7 else None,
                    reasoning_mode="high",
                    input_tokens=1200,
                    cache_read_input_tokens=0,
                    output_tokens=rng.randrange(3000, 9000),
                )
            continue
        for ts in draw.office_times(rng.uniform(0.5, 6.0), rng.randrange(-8, 10)):
            draw.call(
                account,
                ts,
                end_user_id=user,
                api_key_id=f"key-{3 + i % 20}",
                **gateway,
                system_fingerprint="sys-resell-assistant",
                template_fingerprint=rng.choice(
                    ["t-resell-translate", "t-resell-summarise", f"t-{rng.randrange(10**9)}"]
                ),
                input_tokens=1500,
                cache_read_input_tokens=rng.choice([0, 800]),
                output_tokens=rng.randrange(100, 1200),
            )


def _company_app(draw: _Draw, *, employees: int) -> None:
    """A company's internal tool on one account, naming each employee as the end user:
    one fixed template under one internal prompt, office hours, no prompt cache. Not
    a declared gateway: its traffic stays the account's."""
    rng = draw.rng
    account = "corp-helpdesk"
    draw.account(
        account,
        "company",
        org_id="corp-inc",
        payment_fingerprint="card-corp-inc",
        signup_ip="198.51.100.7",
        program="enterprise",
    )
    for _ in range(employees):
        user = f"emp-{rng.randrange(10**6):06d}@corp.example"
        for ts in draw.office_times(rng.uniform(3, 15), 2):
            draw.call(
                account,
                ts,
                end_user_id=user,
                client_ip="198.51.100.7",
                user_agent=COMMON_SDK,
                system_fingerprint="sys-corp-helpdesk",
                template_fingerprint=rng.choice(["t-corp-ticket", "t-corp-ticket", "t-corp-kb"]),
                input_tokens=3000,
                cache_read_input_tokens=0,
                output_tokens=rng.randrange(200, 900),
            )
