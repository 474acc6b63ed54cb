"""Dashboard render times: a queue of 10,000 cases and the page of a 20,000-account case.

Seeds a fresh database (SQLite by default) through the case store's tables, serves
the real app on loopback, signs in through the form, and times each page over HTTP:
the figure is the whole server-side render plus a loopback round trip, so it is an
upper bound of the server time. Target: under 150 ms each.

    python -m benchmarks.dashboard [--cases 10000] [--accounts 20000] [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from detector.config import Settings
from detector.store.db import make_engine, write_transaction
from detector.store.migrate import upgrade
from tests.dashboard.conftest import sign_in
from tests.dashboard.seeding import add_test_reviewer, seed_case, seed_queue
from tests.support.server import serve_in_thread

TARGET_MS = 150.0


def seed(url: str, cases: int, accounts: int) -> float:
    started = time.perf_counter()
    upgrade(url)
    engine = make_engine(url)
    with write_transaction(engine) as conn:
        add_test_reviewer(conn)
        seed_queue(conn, cases - 1, accounts=3)
        big = [f"hydra-{i:06d}" for i in range(accounts)]
        seed_case(conn, "big", score=0.99, account_ids=big, days=70)
    engine.dispose()
    return time.perf_counter() - started


def headers(path: str) -> dict[str, str]:
    """The API answers a token; the dashboard, the session cookie the client holds."""
    return {"Authorization": "Bearer bench"} if path.startswith("/v1/") else {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        took = seed(url, args.cases, args.accounts)
        print(f"seeded {args.cases:,} cases and a {args.accounts:,}-account case in {took:.1f}s")
        settings = Settings(
            data_dir=Path(tmp),
            database_url=url,
            api_tokens=[SecretStr("bench")],
            pipeline_embedded=False,
            # Nothing is ingested here: no pool of ingest processes to start.
            ingest_processes=0,
        )
        pages = {
            f"queue of {args.cases:,} open cases, by score": "/dashboard",
            "queue, filtered by capability": "/dashboard?capability=coding&sort=size",
            "queue, page 100": "/dashboard?page=100",
            f"case page, {args.accounts:,} accounts": "/dashboard/cases/big",
            "case page, account search": "/dashboard/cases/big?q=hydra-0199",
            "case page, last page of accounts": "/dashboard/cases/big?page=200",
            f"network of the {args.accounts:,}-account case": "/dashboard/cases/big/network",
            "an account of it": "/dashboard/accounts/hydra-000042",
            "a value it shares": "/dashboard/shared/payment?value=pay-big-0",
            "API: the case with its account ids": "/v1/cases/big",
        }
        worst = 0.0
        with serve_in_thread(settings) as live:
            client = sign_in(live.url)
            try:
                print(f"{'page':<44}{'median ms':>10}{'max ms':>9}{'KiB':>7}")
                for name, path in pages.items():
                    # Warm caches and templates.
                    client.get(path, headers=headers(path)).raise_for_status()
                    times = []
                    for _ in range(args.runs):
                        started = time.perf_counter()
                        answer = client.get(path, headers=headers(path))
                        times.append((time.perf_counter() - started) * 1000)
                        answer.raise_for_status()
                    median = statistics.median(times)
                    worst = max(worst, median)
                    size = len(answer.content) / 1024
                    print(f"{name:<44}{median:>10.1f}{max(times):>9.1f}{size:>7.0f}")
            finally:
                client.close()
    verdict = "within" if worst < TARGET_MS else "OVER"
    print(f"slowest median {worst:.1f} ms: {verdict} the {TARGET_MS:.0f} ms target")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
