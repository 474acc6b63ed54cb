"""The ``synth`` command: generate a scenario to files, plan it, or replay it into a detector."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from synth import worlds
from synth.generate import FORMATS, generate
from synth.plan import build_plan
from synth.replay import ReplayError, replay
from synth.scenario import DEFAULT_DAYS, Scenario


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result: int = args.run(args)
    except (ValueError, ReplayError, OSError) as exc:
        print(f"synth: {exc}", file=sys.stderr)
        return 1
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synth", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    gen = commands.add_parser("generate", help="write a scenario's records and accounts")
    _scenario_arguments(gen)
    gen.add_argument("--out", type=Path, required=True, help="output directory")
    gen.add_argument("--format", choices=FORMATS, default="parquet", help="record files")
    gen.add_argument("--no-progress", action="store_true")
    gen.set_defaults(run=_generate)

    plan = commands.add_parser("plan", help="print the volumes of a scenario, generating nothing")
    _scenario_arguments(plan)
    plan.set_defaults(run=_plan)

    rep = commands.add_parser("replay", help="send a generated run to a detector")
    rep.add_argument("run_dir", type=Path, metavar="DIR")
    rep.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8000")
    rep.add_argument("--token", required=True, help="a bearer token of the detector")
    rep.add_argument("--batch-size", type=int, default=5_000)
    rep.add_argument("--concurrency", type=int, default=4)
    rep.add_argument("--gzip", action="store_true", help="gzip request bodies")
    rep.add_argument("--no-progress", action="store_true")
    rep.set_defaults(run=_replay)
    return parser


def _scenario_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", type=Path, help="JSON file of scenario parameters")
    parser.add_argument("--scale", type=float, help="volume factor (default 1.0)")
    parser.add_argument("--days", type=int, help="span in days (default 56)")
    parser.add_argument("--seed", type=int, help="random seed")
    parser.add_argument("--start", help="first day, RFC 3339 (default 2026-01-05T00:00:00Z)")
    parser.add_argument(
        "--world", type=int, help="draw a whole world from this number (synth.worlds)"
    )


def scenario_from(args: argparse.Namespace) -> Scenario:
    """The scenario file, the world, or the defaults, with command-line values on top."""
    if args.world is not None:
        if args.scenario:
            raise ValueError("--world: draws a whole scenario; give it or --scenario, not both")
        scenario = worlds.draw(args.world, days=args.days or DEFAULT_DAYS)
    else:
        scenario = Scenario.load(args.scenario) if args.scenario else Scenario()
    changes = {
        name: getattr(args, name)
        for name in ("scale", "days", "seed", "start")
        if getattr(args, name) is not None
    }
    return dataclasses.replace(scenario, **changes)


def _generate(args: argparse.Namespace) -> int:
    summary = generate(
        scenario_from(args), args.out, fmt=args.format, progress=not args.no_progress
    )
    rate = summary.records / summary.seconds
    print(
        f"{summary.records:,} records, {summary.accounts:,} accounts, {summary.days} days "
        f"in {summary.seconds:.1f} s ({rate:,.0f} records/s) -> {summary.out}"
    )
    return 0


def _plan(args: argparse.Namespace) -> int:
    plan = build_plan(scenario_from(args))
    volumes = plan.volumes()
    out = {
        "records": plan.total,
        "accounts": len(plan.accounts),
        "populations": {
            p.name: {"label": p.label, "records": volumes[p.name], "accounts": len(p.accounts)}
            for p in plan.populations
        },
    }
    print(json.dumps(out, indent=2))
    return 0


def _replay(args: argparse.Namespace) -> int:
    result = replay(
        args.run_dir,
        args.url,
        args.token,
        batch_size=args.batch_size,
        concurrency=args.concurrency,
        compress=args.gzip,
        progress=not args.no_progress,
    )
    r = result.records
    print(
        f"accounts: {result.accounts.accepted:,} accepted; records: {r.sent:,} sent, "
        f"{r.accepted:,} accepted, {r.duplicates:,} duplicates, {r.rejected:,} rejected, "
        f"{r.retries} retries; server received {result.received_before:,} -> "
        f"{result.received_after:,}"
    )
    if not result.consistent:
        print("synth: counts do not match the server's", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
