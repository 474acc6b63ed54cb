"""``detector db ...`` and ``detector ingest FILE...`` as a user runs them: subprocesses."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from detector.store.db import make_engine
from detector.store.migrate import current_revision, head_revision
from tests.support.records import RecordFactory, stored_records

pytestmark = pytest.mark.db


def detector(tmp_path: Path, url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``detector ARGS`` in a clean directory (no stray .env) on the test database."""
    full_env = {
        **os.environ,
        "DETECTOR_DATABASE_URL": url,
        "DETECTOR_DATA_DIR": str(tmp_path / "data"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "detector.cli", *args],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write_ndjson(path: Path, items: list[Any], *, gzipped: bool = False) -> Path:
    data = b"".join(orjson.dumps(item) + b"\n" for item in items)
    path.write_bytes(gzip.compress(data) if gzipped else data)
    return path


def write_json(path: Path, items: list[Any], *, gzipped: bool = False) -> Path:
    data = orjson.dumps(items, option=orjson.OPT_INDENT_2)  # pretty, over many lines
    path.write_bytes(gzip.compress(data) if gzipped else data)
    return path


def test_db_upgrade_current_and_downgrade(tmp_path: Path, database_url: str) -> None:
    up = detector(tmp_path, database_url, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    current = detector(tmp_path, database_url, "db", "current")
    head = str(head_revision())
    assert current.stdout.split() == ["current:", head, "head:", head]
    down = detector(tmp_path, database_url, "db", "downgrade")
    assert down.returncode == 0, down.stderr
    engine = make_engine(database_url)
    assert current_revision(engine) is None
    engine.dispose()


def test_ingest_every_file_form(
    tmp_path: Path, migrated_url: str, engine: Engine, record_factory: RecordFactory
) -> None:
    chunks = [record_factory.records(n) for n in (7, 5, 6, 4)]
    files = [
        write_ndjson(tmp_path / "a.ndjson", chunks[0]),
        write_ndjson(tmp_path / "b.ndjson.gz", chunks[1], gzipped=True),
        write_json(tmp_path / "c.json", chunks[2]),
        write_json(tmp_path / "d.json.gz", chunks[3], gzipped=True),
    ]
    # A small batch size, so that every file spans several batches.
    run = detector(tmp_path, migrated_url, "ingest", "--batch-size", "3", *map(str, files))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "accepted 22, duplicates 0, rejected 0"
    assert "rec" in run.stderr  # the progress bar
    expected = [r["event_id"] for chunk in chunks for r in chunk]
    assert [r["event_id"] for r in stored_records(engine)] == expected

    again = detector(tmp_path, migrated_url, "ingest", *map(str, files))
    assert again.stdout.strip().splitlines()[-1] == "accepted 0, duplicates 22, rejected 0"
    assert len(stored_records(engine)) == 22


def test_ingest_reads_a_records_object_and_a_single_record(
    tmp_path: Path, migrated_url: str, engine: Engine, record_factory: RecordFactory
) -> None:
    items = record_factory.records(4)
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_bytes(orjson.dumps({"records": items[:3]}))
    single = tmp_path / "single.json"
    single.write_bytes(orjson.dumps(items[3], option=orjson.OPT_INDENT_2))
    run = detector(tmp_path, migrated_url, "ingest", str(wrapped), str(single))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "accepted 4, duplicates 0, rejected 0"
    assert [r["event_id"] for r in stored_records(engine)] == [r["event_id"] for r in items]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.ndjson", None, "cannot be read"),
        ("broken.json", b'[{"event_id": "x",', "not NDJSON and not valid JSON"),
    ],
    ids=["missing file", "malformed JSON"],
)
def test_ingest_names_an_unreadable_file_without_a_traceback(
    tmp_path: Path, migrated_url: str, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    run = detector(tmp_path, migrated_url, "ingest", str(path))
    assert run.returncode == 1
    assert f"detector: {path}: {message}" in run.stderr
    assert "Traceback" not in run.stderr


def test_ingest_reports_bad_records_by_place_in_the_file(
    tmp_path: Path, migrated_url: str, engine: Engine, record_factory: RecordFactory
) -> None:
    items = record_factory.records(8)
    items[1]["ts_start"] = "yesterday"
    items[6]["client_ip"] = "999.0.0.1"
    path = write_ndjson(tmp_path / "bad.ndjson", items)
    with path.open("ab") as handle:  # blank lines do not count as records
        handle.write(b"\n\n")
    run = detector(tmp_path, migrated_url, "ingest", "--batch-size", "4", str(path))
    assert run.returncode == 2
    assert run.stdout.strip().splitlines()[-1] == "accepted 6, duplicates 0, rejected 2"
    assert f"{path}: record 1: ts_start: 'yesterday'" in run.stderr
    assert f"{path}: record 6: client_ip: '999.0.0.1'" in run.stderr
    assert len(stored_records(engine)) == 6


def test_ingest_accounts(
    tmp_path: Path, migrated_url: str, engine: Engine, record_factory: RecordFactory
) -> None:
    accounts = record_factory.accounts(5)
    path = write_ndjson(tmp_path / "accounts.ndjson.gz", accounts, gzipped=True)
    run = detector(tmp_path, migrated_url, "ingest", "--accounts", str(path))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "accepted 5, duplicates 0, rejected 0"
    with engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM accounts").scalar_one()
    assert count == 5


def test_ingest_on_an_unreachable_store_fails_cleanly(
    tmp_path: Path, record_factory: RecordFactory
) -> None:
    from tests.support.server import free_port

    path = write_ndjson(tmp_path / "a.ndjson", record_factory.records(2))
    dead = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x?connect_timeout=2"
    run = detector(tmp_path, dead, "ingest", str(path))
    assert run.returncode == 1
    assert "store unavailable" in run.stderr
    assert "Traceback" not in run.stderr


def test_the_cli_and_the_api_share_one_store(
    tmp_path: Path, migrated_url: str, record_factory: RecordFactory
) -> None:
    """Records loaded by the CLI are duplicates for the API, and the other way round."""
    from detector.config import Settings
    from tests.conftest import TOKEN
    from tests.support.server import serve_in_thread

    records = record_factory.records(4)
    path = write_ndjson(tmp_path / "a.ndjson", records[:2])
    assert detector(tmp_path, migrated_url, "ingest", str(path)).returncode == 0
    settings = Settings.model_validate(
        {
            "data_dir": tmp_path,
            "database_url": migrated_url,
            "api_tokens": [TOKEN],
            "pipeline_embedded": False,
        }
    )
    with serve_in_thread(settings) as live, live.client() as client:
        result = client.post("/v1/records", json=records).json()
    assert (result["accepted"], result["duplicates"]) == (2, 2)
    engine = make_engine(migrated_url)
    assert len(stored_records(engine)) == 4
    engine.dispose()


def test_ingest_refuses_unstorable_characters_record_by_record(
    tmp_path: Path, migrated_url: str, engine: Engine, record_factory: RecordFactory
) -> None:
    items = record_factory.records(4)
    items[1]["account_id"] = "acct\ud800"  # written escaped by the standard library
    items[2]["tool_names"] = ["bash", "\x00"]
    document = tmp_path / "poisoned.json"
    document.write_text(json.dumps(items, indent=2))
    lines = tmp_path / "poisoned.ndjson"
    lines.write_text("\n".join(json.dumps(item) for item in reversed(items)))
    run = detector(tmp_path, migrated_url, "ingest", str(document), str(lines))
    assert run.returncode == 2
    assert run.stdout.strip().splitlines()[-1] == "accepted 2, duplicates 2, rejected 4"
    assert f"{document}: record 1: account_id: contains U+D800" in run.stderr
    assert f"{document}: record 2: tool_names[1]: contains U+0000" in run.stderr
    assert f"{lines}: record 2: account_id: contains U+D800" in run.stderr
    stored = [record["event_id"] for record in stored_records(engine)]
    assert sorted(stored) == sorted([items[0]["event_id"], items[3]["event_id"]])
