"""The ``detector`` command: serve, db, ingest."""

from __future__ import annotations

import argparse
import logging
import logging.config
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from detector import fingerprint_cli
from detector.config import get_settings
from detector.errors import DetectorError
from detector.observability.logs import log_config


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    if given and given[0] in ("spark-job", "stage2"):
        # Their own parsers read every argument, ``--help`` included.
        handed = argparse.Namespace(rest=given[1:])
        return _spark_job(handed) if given[0] == "spark-job" else _stage2(handed)
    parser = _parser()
    args = parser.parse_args(given)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    try:
        result: int = args.run(args)
    except DetectorError as exc:
        print(f"detector: {exc}", file=sys.stderr)
        return 1
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="detector", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the API")
    serve.add_argument("--host", default=None, help="default DETECTOR_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default DETECTOR_PORT or 8000")
    serve.add_argument("--workers", type=int, default=None, help="server processes")
    serve.set_defaults(run=_serve)

    db = commands.add_parser("db", help="database schema").add_subparsers(required=True)
    up = db.add_parser("upgrade", help="migrate to the latest schema (or --revision)")
    up.add_argument("--revision", default="head")
    up.set_defaults(run=_db_upgrade)
    down = db.add_parser("downgrade", help="migrate down to --revision (default: base)")
    down.add_argument("--revision", default="base")
    down.set_defaults(run=_db_downgrade)
    current = db.add_parser("current", help="print the schema revision")
    current.set_defaults(run=_db_current)

    ingest = commands.add_parser("ingest", help="load NDJSON/JSON(.gz) files of records")
    ingest.add_argument("files", nargs="+", type=Path)
    ingest.add_argument("--accounts", action="store_true", help="the files hold accounts")
    ingest.add_argument("--batch-size", type=int, default=5000)
    ingest.set_defaults(run=_ingest)

    worker = commands.add_parser("worker", help="run the detection pipeline in this process")
    worker.add_argument("--once", action="store_true", help="process what is there, then exit")
    worker.add_argument("--flush", action="store_true", help="with --once: close every window")
    worker.set_defaults(run=_worker)

    evaluate = commands.add_parser("evaluate", help="replay a synth scenario and score the cases")
    source = evaluate.add_mutually_exclusive_group(required=True)
    source.add_argument("--scenario", type=Path, help="a synth output directory")
    source.add_argument("--worlds", type=int, help="generate and grade this many synth worlds")
    evaluate.add_argument(
        "--out",
        type=Path,
        default=None,
        help="default: SCENARIO/evaluation; with --worlds, where the worlds and worlds.json "
        "go (default: a temporary directory, worlds.json in the current one)",
    )
    evaluate.add_argument("--first-world", type=int, default=0, help="with --worlds")
    evaluate.add_argument("--scale", type=float, default=0.01, help="with --worlds")
    evaluate.add_argument("--days", type=int, default=28, help="with --worlds")
    evaluate.add_argument(
        "--fail-under",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="with --worlds: exit 3 if the worst world misses it; recall and caught are "
        "floors, before, honest (share) and lookalike (cases) are ceilings",
    )
    evaluate.set_defaults(run=_evaluate)

    # The scaled-out deployment (docs/operations.md); their own parsers read the rest.
    spark_job = commands.add_parser(
        "spark-job", help="stage 1 of the scaled-out deployment, on Spark", add_help=False
    )
    spark_job.add_argument("rest", nargs=argparse.REMAINDER)
    spark_job.set_defaults(run=_spark_job)
    stage2 = commands.add_parser(
        "stage2", help="stage 2 of the scaled-out deployment: cases from aggregates", add_help=False
    )
    stage2.add_argument("rest", nargs=argparse.REMAINDER)
    stage2.set_defaults(run=_stage2)

    reviewer = commands.add_parser("reviewer", help="dashboard reviewer accounts")
    _reviewer_commands(reviewer.add_subparsers(required=True))

    fingerprint_cli.add_parser(commands)
    return parser


def _spark_job(args: argparse.Namespace) -> int:
    # Imported here: pyspark is only installed where stage 1 runs.
    from detector.scaleout import stage1

    return stage1.main(args.rest)


def _stage2(args: argparse.Namespace) -> int:
    from detector.scaleout import stage2

    return stage2.main(args.rest)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    if args.workers:
        # Each server process builds its app from the environment, and the size of
        # its ingest pool depends on how many server processes there are.
        os.environ["DETECTOR_WORKERS"] = str(args.workers)
        get_settings.cache_clear()
    settings = get_settings()
    uvicorn.run(
        "detector.api.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.workers,
        log_level=settings.log_level,
        log_config=log_config(settings, json=settings.log_format == "json"),
        # Requests are logged once, with their request id, by RequestContextMiddleware.
        access_log=False,
    )
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from detector.store.migrate import upgrade

    upgrade(get_settings().resolved_database_url, args.revision)
    return 0


def _db_downgrade(args: argparse.Namespace) -> int:
    from detector.store.migrate import downgrade

    downgrade(get_settings().resolved_database_url, args.revision)
    return 0


def _db_current(_: argparse.Namespace) -> int:
    from detector.store.db import make_engine
    from detector.store.migrate import current_revision, head_revision

    engine = make_engine(get_settings().resolved_database_url)
    print(f"current: {current_revision(engine)}  head: {head_revision()}")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from detector.ingest.files import file_batches
    from detector.ingest.service import BatchResult, Ingestor
    from detector.store.db import make_engine

    settings = get_settings()
    engine = make_engine(
        settings.resolved_database_url, sqlite_busy_timeout=settings.sqlite_busy_timeout
    )
    ingestor = Ingestor(engine, settings)
    store = ingestor.accounts if args.accounts else ingestor.records
    total = BatchResult()
    for path in args.files:
        with tqdm(desc=path.name, unit="rec", file=sys.stderr) as progress:
            for offset, batch in file_batches(path, args.batch_size):
                result = store(batch, "ndjson")
                total.accepted += result.accepted
                total.duplicates += result.duplicates
                total.rejected += result.rejected
                for error in result.errors[:20]:
                    print(
                        f"{path}: record {offset + error.index}: {error.message}", file=sys.stderr
                    )
                progress.update(result.accepted + result.duplicates + result.rejected)
    print(f"accepted {total.accepted}, duplicates {total.duplicates}, rejected {total.rejected}")
    return 0 if total.rejected == 0 else 2


def _reviewer_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, help_text in (
        ("add", "create a reviewer (asks for the password)"),
        ("passwd", "set a reviewer's password; signs their browsers out"),
        ("disable", "stop a reviewer from signing in; signs their browsers out"),
    ):
        command = sub.add_parser(name, help=help_text)
        command.add_argument("username")
        if name != "disable":
            command.add_argument(
                "--password-stdin", action="store_true", help="read the password from stdin"
            )
        command.set_defaults(run=_reviewer, action=name)
    listing = sub.add_parser("list", help="list reviewers")
    listing.set_defaults(run=_reviewer, action="list", username="")


def _reviewer(args: argparse.Namespace) -> int:
    import getpass
    from datetime import UTC, datetime

    from detector.dashboard.passwords import check_strength, hash_password
    from detector.store import reviewers
    from detector.store.db import make_engine, write_transaction

    engine = make_engine(get_settings().resolved_database_url)
    if args.action == "list":
        with engine.connect() as conn:
            for username, active, created in reviewers.list_reviewers(conn):
                print(f"{username}\t{'active' if active else 'disabled'}\t{created:%Y-%m-%d}")
        return 0
    with write_transaction(engine) as conn:
        if args.action == "disable":
            reviewers.disable_reviewer(conn, username=args.username)
            print(f"disabled {args.username}")
            return 0
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {args.username}: ")
        if getpass.getpass("again: ") != password:
            print("detector: the passwords differ", file=sys.stderr)
            return 1
    try:
        check_strength(password, username=args.username)
    except ValueError as exc:
        print(f"detector: {exc}", file=sys.stderr)
        return 1
    hashed = hash_password(password)
    with write_transaction(engine) as conn:
        if args.action == "add":
            reviewers.add_reviewer(
                conn, username=args.username, password_hash=hashed, now=datetime.now(UTC)
            )
        else:
            reviewers.set_password(conn, username=args.username, password_hash=hashed)
    print(f"{'created' if args.action == 'add' else 'updated'} {args.username}")
    return 0


def _worker(args: argparse.Namespace) -> int:
    import signal
    import threading

    from detector.pipeline.service import make_runner
    from detector.store.db import make_engine

    settings = get_settings()
    logging.config.dictConfig(log_config(settings, json=settings.log_format == "json"))
    runner = make_runner(make_engine(settings.resolved_database_url), settings)
    if args.once:
        stats = runner.run_until_idle(flush=args.flush)
        runner.release()
        runner.close()
        print(f"processed {stats.records} records ({stats.late} late)")
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    logging.getLogger("detector.pipeline").info("worker %s started", runner.holder)
    while not stop.is_set():
        try:
            stepped = runner.step().segments
        except Exception:  # retried: a chunk that fails again is screened
            logging.getLogger("detector.pipeline").exception("pipeline step failed")
            stepped = 0
        if stepped == 0:
            stop.wait(settings.pipeline_poll_seconds)
    runner.release()
    runner.close()
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    if args.worlds is not None:
        return _evaluate_worlds(args)
    from detector.pipeline.evaluate import evaluate_scenario

    report = evaluate_scenario(args.scenario, out=args.out)
    print(report)
    return 0


def _evaluate_worlds(args: argparse.Namespace) -> int:
    from detector.pipeline import worlds

    try:
        thresholds = worlds.parse_thresholds(args.fail_under)
    except ValueError as exc:
        print(f"detector: {exc}", file=sys.stderr)
        return 2
    run = worlds.WorldsRun(
        first=args.first_world, count=args.worlds, scale=args.scale, days=args.days
    )
    summary = worlds.evaluate_worlds(run, out=args.out)
    print(worlds.table(summary))
    print(f"figures of every world: {summary['report']}")
    missed = worlds.failures(summary, thresholds)
    for line in missed:
        print(f"detector: {line}", file=sys.stderr)
    return 3 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
