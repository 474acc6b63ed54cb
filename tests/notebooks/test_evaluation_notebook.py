"""The evaluation notebook runs from top to bottom and computes its metrics.

The notebook is executed once per module with nbclient in a fresh kernel whose
working directory is a temporary folder (the notebook writes its scenario to
``evaluation-run/`` there). Its last cell, tagged ``metrics``, prints the run's
figures as JSON; the tests read them, and check the notebook's own ROC-AUC against
scikit-learn's on the account scores it saved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import polars as pl
import pytest
from nbclient import NotebookClient
from sklearn.metrics import roc_auc_score

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "evaluation.ipynb"
CAMPAIGNS = ("minimax", "moonshot", "deepseek")


@dataclass(frozen=True)
class Executed:
    notebook: Any
    workdir: Path

    def outputs(self) -> list[dict[str, Any]]:
        return [o for cell in self.notebook.cells if cell.cell_type == "code" for o in cell.outputs]

    def metrics(self) -> dict[str, Any]:
        tagged = [c for c in self.notebook.cells if "metrics" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, "exactly one cell is tagged 'metrics'"
        text = "".join(o["text"] for o in tagged[0].outputs if o["output_type"] == "stream")
        metrics: dict[str, Any] = json.loads(text)
        return metrics


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Executed:
    workdir = tmp_path_factory.mktemp("notebook")
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    # Raises CellExecutionError, naming the cell and the traceback, if any cell fails.
    client.execute()
    return Executed(notebook=notebook, workdir=workdir)


def test_committed_notebook_has_no_outputs() -> None:
    """Outputs are stripped before committing, so diffs show only source changes."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)


@pytest.mark.slow
def test_every_cell_runs_without_errors(executed: Executed) -> None:
    outputs = executed.outputs()
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert not [o for o in outputs if o["output_type"] == "stream" and o["name"] == "stderr"]
    # Hour profile and accounts, cluster features, scores, ROC, detection delay.
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) >= 5


@pytest.mark.slow
def test_metrics_are_computed(executed: Executed) -> None:
    metrics = executed.metrics()
    assert metrics["records"] > 50_000
    assert metrics["clusters_scored"] >= 1
    assert 0.5 < metrics["roc_auc"] <= 1.0
    assert 0.5 < metrics["roc_auc_case_score"] <= 1.0
    assert set(metrics["roc_auc_per_campaign"]) == set(CAMPAIGNS)
    assert set(metrics["campaigns"]) == set(CAMPAIGNS)
    for name, campaign in metrics["campaigns"].items():
        assert 0.0 <= campaign["account_recall"] <= 1.0, name
        if campaign["became_case"]:
            assert campaign["hours_from_start"] is not None, name
            assert 0.0 <= campaign["share_seen_before_case"] <= 1.0, name
    assert any(c["became_case"] for c in metrics["campaigns"].values())


@pytest.mark.slow
def test_roc_auc_agrees_with_scikit_learn(executed: Executed) -> None:
    """The notebook computes its ROC with polars; scikit-learn must agree on the area."""
    scores = pl.read_parquet(executed.workdir / "evaluation-run" / "account_scores.parquet")
    assert scores["positive"].sum() > 0
    assert (~scores["positive"]).sum() > 0
    metrics = executed.metrics()
    for column, key in (("cluster_score", "roc_auc"), ("case_score", "roc_auc_case_score")):
        expected = roc_auc_score(scores["positive"].to_list(), scores[column].to_list())
        assert metrics[key] == pytest.approx(expected, abs=1e-4), column
