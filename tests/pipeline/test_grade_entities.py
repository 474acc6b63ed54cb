"""``detector evaluate``'s grade counts entities as the engine does: a campaign hidden
among a declared reseller's end users is recalled over those end users, and the
reseller's honest end users are honest entities."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from detector.features.frames import principal
from detector.pipeline.cases import CaseUpdate
from detector.pipeline.evaluate import Scenario, grade
from detector.pipeline.truth import active_truth, truth_entities, with_entity

START = 1_767_571_200.0  # 2026-01-05


def _update(case_id: str, members: list[str], opened_at: float) -> CaseUpdate:
    return CaseUpdate(
        case_id=case_id,
        cluster_id=case_id,
        opened=True,
        event_time=opened_at,
        opened_at=opened_at,
        score=0.9,
        peak_score=0.9,
        account_count=len(members),
        record_count=10,
        capability_mix={},
        reasons=[],
        features={},
        shared={},
        timeline=[],
        signatures=[],
        account_records={m: 1 for m in members},
    )


@pytest.fixture
def run(tmp_path: Path) -> Scenario:
    """A reseller R with honest end users e1..e3 and the hidden campaign accounts D1,
    D2 (end users u1, u2); an honest account H; a standard account N whose end users
    stay its own."""
    accounts = pl.DataFrame(
        {"account_id": ["R", "H", "N"], "program": ["reseller", "standard", "standard"]}
    )
    truth = pl.DataFrame(
        {
            "account_id": ["R", "H", "N", "D1", "D2"],
            "label": ["honest", "honest", "honest", "deepseek", "deepseek"],
            "kind": ["reseller", "general", "corporate_nat", "campaign", "campaign"],
            "via_account_id": [None, None, None, "R", "R"],
            "end_user_id": [None, None, None, "u1", "u2"],
        }
    )
    rows = [
        ("R", "u1", START + 10),
        ("R", "u1", START + 20),
        ("R", "u2", START + 30),
        ("R", "u2", START + 7200),
        ("R", "e1", START + 40),
        ("R", "e2", START + 50),
        ("R", "e3", START + 60),
        ("H", None, START + 70),
        ("N", "x1", START + 80),
        ("N", "x2", START + 90),
    ]
    (tmp_path / "records").mkdir()
    pl.DataFrame(
        rows,
        schema={"account_id": pl.String, "end_user_id": pl.String, "ts_start": pl.Float64},
        orient="row",
    ).write_parquet(tmp_path / "records" / "2026-01-05.parquet")
    document = {
        "records": len(rows),
        "campaigns": {"deepseek": {"label": "deepseek", "start": "2026-01-05T00:00:00Z"}},
    }
    return Scenario(root=tmp_path, document=document, truth=truth, accounts=accounts)


def test_hidden_campaign_accounts_are_the_principals_of_their_end_users() -> None:
    truth = pl.DataFrame(
        {
            "account_id": ["A", "D"],
            "label": ["honest", "deepseek"],
            "kind": ["general", "campaign"],
            "via_account_id": [None, "R"],
            "end_user_id": [None, "u" * 2000],
        }
    )
    entities = truth_entities(truth)["account_id"].to_list()
    assert entities == ["A", principal("R", "u" * 2000)]
    # Without the via columns (a run with nothing hidden) the truth is as it was.
    plain = truth.drop("via_account_id", "end_user_id")
    assert truth_entities(plain).equals(plain)


def test_only_declared_gateways_split_into_end_users() -> None:
    records = pl.DataFrame({"account_id": ["R", "R", "N"], "end_user_id": ["u1", None, "x"]})
    assert with_entity(records, ["R"])["entity"].to_list() == [principal("R", "u1"), "R", "N"]


def test_honest_end_users_take_their_resellers_label() -> None:
    truth = pl.DataFrame({"account_id": ["R"], "label": ["honest"], "kind": ["reseller"]})
    traffic = pl.DataFrame({"entity": [principal("R", "e1")], "account_id": ["R"]})
    active = active_truth(truth, traffic)
    assert active.rows() == [(principal("R", "e1"), "honest", "reseller_end_user")]


def test_grade_recalls_a_hidden_campaign_over_the_resellers_end_users(run: Scenario) -> None:
    u1, u2, e1 = (principal("R", u) for u in ("u1", "u2", "e1"))
    updates = [_update("c1", [u1, u2, e1], opened_at=START + 3600)]
    result = grade(run, updates)
    deepseek = result["campaigns"]["deepseek"]
    assert deepseek["became_case"] is True
    assert deepseek["accounts"] == 2
    assert deepseek["account_recall"] == 1.0
    assert deepseek["account_precision"] == round(2 / 3, 4)
    # Three of the four records of u1 and u2 had arrived when the case opened.
    assert deepseek["share_seen_before_case"] == 0.75
    # Honest entities: H, N (its end users stay its own) and R's end users e1..e3;
    # R itself sent nothing without an end user, so it is no entity of its own.
    assert result["honest_accounts"] == 5
    assert result["honest_accounts_in_cases"] == 1
    assert result["cases"][0]["kinds"] == {"campaign": 2, "reseller_end_user": 1}
    assert result["lookalike_cases"] == []


def test_grade_without_gateways_counts_the_reseller_as_one_honest_account(
    run: Scenario,
) -> None:
    result = grade(run, [_update("c1", ["R", "H"], opened_at=START)], gateway_programs=())
    assert result["campaigns"]["deepseek"]["accounts"] == 0
    assert result["honest_accounts"] == 3
    assert result["honest_accounts_in_cases"] == 2
    assert result["lookalike_cases"] == ["c1"]
