"""``synth replay`` into a live detector on loopback: counts must match."""

from __future__ import annotations

from pathlib import Path

import pytest

from synth.cli import main
from synth.generate import generate
from synth.replay import ReplayError, count_records, replay
from synth.scenario import Scenario
from tests.support.server import LiveServer


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth-tiny")
    generate(Scenario(scale=0.0002, days=2), out)
    return out


@pytest.mark.db
def test_replay_counts_match_the_server(tiny_run: Path, server: LiveServer) -> None:
    total = count_records(tiny_run)
    code = main(
        [
            "replay",
            str(tiny_run),
            "--url",
            server.url,
            "--token",
            server.token,
            "--batch-size",
            "1000",
            "--gzip",
            "--no-progress",
        ]
    )
    assert code == 0
    with server.client() as client:
        assert client.get("/v1/pipeline").json()["received"] == total
    # A second replay is all duplicates: nothing new is received, and that is consistent.
    again = replay(tiny_run, server.url, server.token, batch_size=2_000, progress=False)
    assert again.records.duplicates == total and again.records.accepted == 0
    assert again.consistent


@pytest.mark.db
def test_replay_rejects_a_bad_token(tiny_run: Path, server: LiveServer) -> None:
    with pytest.raises(ReplayError, match="HTTP 401"):
        replay(tiny_run, server.url, "wrong-token", progress=False)


def test_replay_names_a_directory_that_is_not_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["replay", str(tmp_path), "--url", "http://127.0.0.1:9", "--token", "t"])
    assert code == 1
    assert "no accounts.ndjson" in capsys.readouterr().err
