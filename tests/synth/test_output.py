"""Output files: canonical against the detector's own decoder, deterministic, complete."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from detector.ingest.decode import decode_batch
from detector.ingest.normalise import apply, normalise_account, normalise_record
from detector.schema import Limits
from detector.schema.accounts import account_type
from detector.schema.records import record_type
from synth.conformance import NotCanonicalError, check_records
from synth.generate import generate
from synth.scenario import Scenario
from synth.schema import ACCOUNT_SCHEMA, RECORD_SCHEMA, UNUSED_FIELDS
from tests.synth.conftest import Run

LIMITS = Limits()


def test_every_record_is_accepted_by_the_detectors_decoder(run: Run) -> None:
    item_type = record_type(LIMITS)
    total = 0
    for path in sorted((run.out / "records").glob("*.ndjson")):
        body = path.read_bytes()
        decoded = decode_batch(body, "ndjson", item_type, max_items=10_000_000)
        apply(decoded, lambda r: normalise_record(r, b"k", keep_prompt_text=False))
        assert decoded.errors == [], f"{path.name}: {decoded.errors[:3]}"
        total += len(decoded.items)
    assert total == run.records.height == run.scenario["records"]


def test_every_account_is_accepted_by_the_detectors_decoder(run: Run) -> None:
    body = (run.out / "accounts.ndjson").read_bytes()
    decoded = decode_batch(body, "ndjson", account_type(LIMITS), max_items=10_000_000)
    apply(decoded, normalise_account)
    assert decoded.errors == []
    assert len(decoded.items) == run.accounts.height == run.truth.height


def test_parquet_columns_are_the_contract_fields_in_order(run: Run) -> None:
    day = next((run.out / "records").glob("*.parquet"))
    schema = pq.read_schema(day)
    assert schema.names == RECORD_SCHEMA.names
    for field in RECORD_SCHEMA:
        assert schema.field(field.name).type.equals(field.type, check_metadata=False) or (
            str(schema.field(field.name).type).startswith("list")
            and str(field.type).startswith("list")
        ), field.name
    from detector.schema import Record

    assert set(RECORD_SCHEMA.names) == set(Record.__struct_fields__) - UNUSED_FIELDS
    assert pq.read_schema(run.out / "accounts.parquet").names == ACCOUNT_SCHEMA.names


def test_event_ids_are_unique_and_days_are_in_event_time_order(run: Run) -> None:
    assert run.records["event_id"].n_unique() == run.records.height
    for path in sorted((run.out / "records").glob("*.parquet")):
        ts = pq.read_table(path, columns=["ts_start"]).column("ts_start").to_numpy()
        assert (ts[1:] >= ts[:-1]).all(), path.name
    assert (run.records["ts_end"] >= run.records["ts_start"]).all()


def test_the_conformance_check_rejects_a_bad_row(run: Run) -> None:
    table = pq.read_table(next((run.out / "records").glob("*.parquet"))).slice(0, 3)
    assert check_records(table) == 3
    bad = table.set_column(
        table.schema.get_field_index("client_ip"), "client_ip", [["nope", "1.2.3.4", "::1"]]
    )
    with pytest.raises(NotCanonicalError, match="client_ip: 'nope' is not an IPv4"):
        check_records(bad)


def _digests(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    small = Scenario(scale=0.0005, days=4)
    generate(small, tmp_path / "a")
    generate(small, tmp_path / "b")
    generate(Scenario(scale=0.0005, days=4, seed=1), tmp_path / "c")
    a, b, c = (_digests(tmp_path / x) for x in "abc")
    assert a == b
    assert len(a) == 4 * 2 + 4  # records and labels per day, accounts x2, truth, scenario
    assert a["records/2026-01-05.parquet"] != c["records/2026-01-05.parquet"]
    # Two runs replayed into one detector must not merge accounts or collide on event ids.
    for name, column in (("accounts.parquet", "account_id"), ("records", "event_id")):
        ids_a = set(pq.read_table(tmp_path / "a" / name, columns=[column]).column(0).to_pylist())
        ids_c = set(pq.read_table(tmp_path / "c" / name, columns=[column]).column(0).to_pylist())
        assert ids_a and not ids_a & ids_c, name


def test_bad_parameters_are_named() -> None:
    with pytest.raises(ValueError, match="days: 0 must be at least 1"):
        generate(Scenario(days=0), Path("/nonexistent"))
    with pytest.raises(ValueError, match="format: 'xml' must be one of"):
        generate(Scenario(scale=0.001), Path("/nonexistent"), fmt="xml")
    with pytest.raises(ValueError, match="scenario: unknown field"):
        Scenario.from_dict({"sale": 1})
    with pytest.raises(ValueError, match=r"unknown field\(s\) minimax.volum"):
        Scenario.from_dict({"minimax": {"volum": 1}})
    assert Scenario.from_dict({"minimax": {"volume": 5}}).minimax.volume == 5
