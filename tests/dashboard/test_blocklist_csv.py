"""The blocklist CSV keeps every cell text when opened in a spreadsheet."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from detector.enforcement.blocklist import Blocked, to_csv


@pytest.mark.parametrize(
    ("account_id", "written"),
    [
        pytest.param("=HYPERLINK(1)", "'=HYPERLINK(1)", id="equals"),
        pytest.param(" =1+1", "' =1+1", id="space-then-equals"),
        pytest.param("\u3000+1", "'\u3000+1", id="ideographic-space-then-plus"),
        pytest.param("＝1+1", "'＝1+1", id="full-width-equals"),
        pytest.param("＠SUM(1)", "'＠SUM(1)", id="full-width-at"),
        pytest.param("﹣1", "'﹣1", id="small-hyphen-minus"),
        pytest.param("\t=1", "'\t=1", id="tab"),
        pytest.param("-cmd", "'-cmd", id="minus"),
        pytest.param("acct-1", "acct-1", id="plain"),
        pytest.param("a=b", "a=b", id="equals-inside"),
    ],
)
def test_formula_cells_are_defused(account_id: str, written: str) -> None:
    entry = Blocked(account_id, "c1", 1, datetime(2026, 2, 23, tzinfo=UTC), "alice")
    rows = list(csv.reader(io.StringIO("".join(to_csv([entry])))))
    assert rows[1][0] == written
