"""``detector reviewer``: accounts created from the command line can sign in."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import Engine

from detector.errors import InvalidRequestError
from detector.store.db import write_transaction
from tests.dashboard.conftest import sign_in
from tests.dashboard.seeding import add_test_reviewer
from tests.support.server import LiveServer

pytestmark = pytest.mark.db


def reviewer(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "detector.cli", "reviewer", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "DETECTOR_DATABASE_URL": url},
        timeout=60,
        check=False,
    )


@pytest.mark.slow  # each command is a fresh interpreter (~1.5 s of imports)
def test_a_reviewer_made_by_the_cli_signs_in(migrated_url: str, live: LiveServer) -> None:
    made = reviewer(migrated_url, "add", "--password-stdin", "carol", stdin="a-long-password\n")
    assert made.returncode == 0, made.stderr
    short = reviewer(migrated_url, "add", "--password-stdin", "dave", stdin="short\n")
    assert short.returncode == 1 and "password: must be at least 10" in short.stderr
    listed = reviewer(migrated_url, "list")
    assert "carol\tactive" in listed.stdout and "dave" not in listed.stdout

    client = sign_in(live.url, username="carol", password="a-long-password")
    try:
        assert client.get("/dashboard").status_code == 200
        disabled = reviewer(migrated_url, "disable", "carol")
        assert disabled.returncode == 0
        # Disabling signs the reviewer out at once.
        assert client.get("/dashboard").status_code == 303
    finally:
        client.close()


def test_names_must_be_plain_and_unique(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        add_test_reviewer(conn, "erin")
    for name, message in (("erin", "username: 'erin' already exists"), ("<b>", "must be 1-128")):
        with pytest.raises(InvalidRequestError, match=message), write_transaction(engine) as conn:
            add_test_reviewer(conn, name)
