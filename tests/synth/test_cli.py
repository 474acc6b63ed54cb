"""The ``synth`` command line: generate, plan, and errors named on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synth.cli import main


def test_generate_writes_every_file_in_both_formats(tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = ["generate", "--scale", "0.0005", "--days", "2", "--seed", "3", "--out", str(out)]
    assert main([*argv, "--format", "both", "--no-progress"]) == 0
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    for day in ("2026-01-05", "2026-01-06"):
        assert {f"records/{day}.parquet", f"records/{day}.ndjson", f"labels/{day}.parquet"} <= names
    assert {"accounts.parquet", "accounts.ndjson", "truth.parquet", "scenario.json"} <= names
    document = json.loads((out / "scenario.json").read_text())
    assert document["scenario"]["seed"] == 3 and document["effective"]["days"] == 2


def test_plan_prints_volumes_from_a_scenario_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"seed": 5, "deepseek": {"volume": 300_000}}))
    assert main(["plan", "--scenario", str(path), "--scale", "0.01"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["populations"]["deepseek"]["records"] == 3_000


def test_a_bad_scenario_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"honest": {"cohort_sise": 3}}))
    assert main(["plan", "--scenario", str(path)]) == 1
    assert "unknown field(s) honest.cohort_sise" in capsys.readouterr().err
