"""``detector evaluate``: replay a synth scenario and grade the cases against its truth.

The replay takes the scenario's accounts and day files, in event-time order, through
the API's own validation and normalisation (``validate_accounts``, ``validate_records``:
fingerprints and content flags derived from prompt text, the text dropped), encodes
them as the event log stores a segment and reads them back as the pipeline runner
does, into the engine the service runs; only the database is left out. The grade,
per campaign: did it become a case,
account recall and precision of its cases, the share of its exchanges that had
arrived when its first case opened, hours from its start; and, over the honest
population: honest accounts inside cases, and cases made of look-alikes only.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from detector.config import Settings, get_settings
from detector.features.frames import narrow, read_records
from detector.ingest.decode import ItemError
from detector.ingest.service import validate_accounts, validate_records
from detector.pipeline.cases import CaseUpdate
from detector.pipeline.engine import META_SCHEMA, Engine, EngineConfig
from detector.pipeline.truth import active_truth, gateway_accounts, truth_entities, with_entity
from detector.schema import Limits
from detector.scoring.scorer import ClusterScorer
from detector.store.event_log import decode_payload, prepare_batch

# Records per ingest batch: synth replay's default batch size.
_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class Scenario:
    root: Path
    document: dict[str, Any]
    truth: pl.DataFrame
    accounts: pl.DataFrame

    @classmethod
    def load(cls, root: Path) -> Scenario:
        if not (root / "scenario.json").is_file():
            raise FileNotFoundError(f"scenario: {root} has no scenario.json (a synth output?)")
        return cls(
            root=root,
            document=json.loads((root / "scenario.json").read_text()),
            truth=pl.read_parquet(root / "truth.parquet"),
            accounts=pl.read_parquet(root / "accounts.parquet"),
        )

    def day_files(self) -> list[Path]:
        return sorted((self.root / "records").glob("*.parquet"))

    def days(self, settings: Settings | None = None) -> Iterator[pl.DataFrame]:
        """Each day's records as the pipeline runner reads them from the store, after
        the API's ingest path (``ingested``)."""
        settings = settings or get_settings()
        for path in self.day_files():
            # One frame a day, as the runner takes in a chunk of many segments.
            yield pl.concat(list(ingested(pl.read_parquet(path), settings)))

    def meta(self, settings: Settings | None = None) -> pl.DataFrame:
        """The accounts' sign-up metadata, validated as ``POST /v1/accounts`` does."""
        settings = settings or get_settings()
        limits = Limits.from_settings(settings)
        lines = (self.root / "accounts.ndjson").read_bytes().splitlines(keepends=True)
        rows = []
        for start in range(0, len(lines), limits.max_records_per_batch):
            raw = b"".join(lines[start : start + limits.max_records_per_batch])
            decoded = validate_accounts(raw, "ndjson", limits)
            _refuse(decoded.errors, "account")
            rows += [{name: getattr(a, name) for name in META_SCHEMA} for a in decoded.items]
        return pl.DataFrame(rows, schema=META_SCHEMA)


def ingested(frame: pl.DataFrame, settings: Settings) -> Iterator[pl.DataFrame]:
    """``frame``'s records through ingest and back, in batches: sent as NDJSON (as
    ``synth replay`` sends them), validated and normalised by ``validate_records``,
    encoded as the event log's segment, and parsed by the runner's reader to the
    narrow frame. Raises ``ValueError`` on a record the API would reject."""
    limits = Limits.from_settings(settings)
    key = settings.fingerprint_key.get_secret_value().encode()
    size = min(_BATCH, limits.max_records_per_batch)
    for batch in frame.iter_slices(size):
        body = io.BytesIO()
        batch.write_ndjson(body)
        decoded = validate_records(
            body.getvalue(),
            "ndjson",
            limits,
            fingerprint_key=key,
            keep_prompt_text=settings.keep_prompt_text,
        )
        _refuse(decoded.errors, "record")
        payload = prepare_batch(decoded.items).segment["payload"]
        if isinstance(payload, bytes):
            yield narrow(read_records(decode_payload(payload)))


def _refuse(errors: list[ItemError], what: str) -> None:
    if errors:
        first = errors[0]
        raise ValueError(f"{what} {first.index}: rejected by ingest: {first.message}")


def replay(scenario: Scenario, config: EngineConfig) -> tuple[list[CaseUpdate], int, float]:
    """All case updates of a replay through the engine, the records fed, and seconds."""
    engine = Engine(config=config, scorer=ClusterScorer(threshold=config.threshold))
    started = time.perf_counter()
    engine.set_meta(scenario.meta())
    updates: list[CaseUpdate] = []
    fed = 0
    for chunk in scenario.days():
        engine.add(chunk)
        fed += chunk.height
        updates += engine.advance()
    updates += engine.advance(flush=True)
    return updates, fed, time.perf_counter() - started


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def grade(
    scenario: Scenario,
    updates: list[CaseUpdate],
    *,
    gateway_programs: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The evaluation document (see the module docstring).

    Accounts are graded as the engine counts them (``detector.pipeline.truth``): the
    end users of accounts whose program is one of ``gateway_programs`` (by default
    ``EngineConfig``'s) are entities
    of their own, a campaign hidden among a reseller's end users is recalled over
    those end users, and honest end users of honest resellers are honest entities.
    """
    programs = EngineConfig().gateway_programs if gateway_programs is None else gateway_programs
    gateways = gateway_accounts(scenario.accounts, programs)
    # Only entities that sent traffic count: a short run's truth file also lists the
    # replacement accounts of a campaign that would have started after it ended.
    traffic = _traffic(scenario, gateways)
    truth = active_truth(
        scenario.truth.select([c for c in scenario.truth.columns if c in _TRUTH]), traffic
    )
    last = {u.case_id: u for u in updates}
    opened = {u.case_id: u.opened_at for u in updates}
    members = pl.DataFrame(
        [(cid, a) for cid, u in last.items() for a in u.account_records],
        schema={"case_id": pl.String, "account_id": pl.String},
        orient="row",
    ).join(truth, on="account_id", how="left")
    honest_total = truth.filter(pl.col("label") == "honest").height
    honest_in_cases = members.filter(pl.col("label") == "honest")["account_id"].n_unique()
    cases = []
    for cid, u in sorted(last.items()):
        mine = members.filter(pl.col("case_id") == cid)
        labels = mine.group_by("label").len().sort("len", descending=True)
        cases.append(
            {
                "case_id": cid,
                "opened_at": _iso(u.opened_at),
                "score": round(u.score, 4),
                "accounts": u.account_count,
                "records": u.record_count,
                "labels": dict(labels.iter_rows()),
                "kinds": dict(mine.group_by("kind").len().iter_rows()),
                "majority": labels["label"][0] if labels.height else None,
                "reasons": u.reasons,
            }
        )
    campaigns: dict[str, Any] = {}
    for name, info in scenario.document.get("campaigns", {}).items():
        label = info["label"]
        accounts = set(truth.filter(pl.col("label") == label)["account_id"].to_list())
        own = [c for c in cases if c["majority"] == label]
        ids = {str(c["case_id"]) for c in own}
        found = set(
            members.filter(pl.col("case_id").is_in(list(ids)) & (pl.col("label") == label))[
                "account_id"
            ].to_list()
        )
        in_own = members.filter(pl.col("case_id").is_in(list(ids)))["account_id"].n_unique()
        first = min((opened[c] for c in ids), default=None)
        start = datetime.fromisoformat(info["start"].replace("Z", "+00:00")).timestamp()
        campaigns[name] = {
            "became_case": bool(own),
            "cases": sorted(ids),
            "accounts": len(accounts),
            "account_recall": round(len(found) / max(1, len(accounts)), 4),
            "account_precision": round(len(found) / in_own, 4) if in_own else None,
            "opened_at": _iso(first) if first is not None else None,
            "hours_from_start": round((first - start) / 3600, 1) if first is not None else None,
            "share_seen_before_case": None
            if first is None
            else _share_before(scenario, label, first, gateways),
        }
    lookalike_cases = [c["case_id"] for c in cases if c["majority"] == "honest"]
    return {
        "scenario": str(scenario.root),
        "records": scenario.document.get("records"),
        "campaigns": campaigns,
        "honest_accounts": honest_total,
        "honest_accounts_in_cases": honest_in_cases,
        "honest_share_in_cases": round(honest_in_cases / max(1, honest_total), 6),
        "lookalike_cases": lookalike_cases,
        "cases": cases,
    }


_TRUTH = ("account_id", "label", "kind", "via_account_id", "end_user_id")


def _records(path: Path, *columns: str) -> pl.DataFrame:
    """``columns`` of a day file, ``end_user_id`` as null where the run has none."""
    names = pl.read_parquet_schema(path)
    return pl.read_parquet(path, columns=[c for c in columns if c in names]).with_columns(
        *[pl.lit(None, pl.String).alias(c) for c in columns if c not in names]
    )


def _traffic(scenario: Scenario, gateways: list[str]) -> pl.DataFrame:
    """The distinct entities (``entity``) of the run's records, with their account."""
    seen = [
        with_entity(
            _records(path, "account_id", "end_user_id")
            .with_columns(pl.when(pl.col("account_id").is_in(gateways)).then(pl.col("end_user_id")))
            .unique(),
            gateways,
        ).select("entity", "account_id")
        for path in scenario.day_files()
    ]
    empty = pl.DataFrame(schema={"entity": pl.String, "account_id": pl.String})
    return pl.concat([empty, *seen]).unique()


def _share_before(scenario: Scenario, label: str, when: float, gateways: list[str]) -> float:
    truth = truth_entities(scenario.truth)
    ids = truth.filter(pl.col("label") == label).select(pl.col("account_id").alias("entity"))
    before = total = 0
    for path in scenario.day_files():
        day = with_entity(_records(path, "account_id", "end_user_id", "ts_start"), gateways)
        day = day.join(ids, on="entity", how="semi")
        total += day.height
        before += int((day["ts_start"] < when).sum())
    return round(before / max(1, total), 5)


def _bars(title: str, values: dict[str, float], limit: float = 1.0) -> str:
    """A small horizontal bar chart as inline SVG, so the report needs no plotting library."""
    height = 22 * len(values) + 30
    rows = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="520" height="{height}">',
        f'<text x="0" y="16" font-size="14">{title}</text>',
    ]
    for i, (name, value) in enumerate(values.items()):
        y = 30 + 22 * i
        width = 300 * min(1.0, max(0.0, value / limit)) if limit else 0
        rows.append(f'<text x="0" y="{y + 14}" font-size="12">{name}</text>')
        rows.append(f'<rect x="120" y="{y}" width="{width:.1f}" height="16" fill="#4a7"/>')
        rows.append(f'<text x="{125 + width:.1f}" y="{y + 13}" font-size="12">{value:g}</text>')
    rows.append("</svg>")
    return "\n".join(rows)


def report_html(result: dict[str, Any]) -> str:
    campaigns = result["campaigns"]
    lines = ["<html><body><h1>Detection evaluation</h1>", f"<p>{result['scenario']}</p>"]
    lines.append(_bars("account recall", {k: v["account_recall"] for k, v in campaigns.items()}))
    lines.append(
        _bars(
            "share of exchanges seen before the case opened",
            {k: v["share_seen_before_case"] or 0.0 for k, v in campaigns.items()},
            limit=0.05,
        )
    )
    lines.append("<table border=1><tr><th>campaign</th><th>case</th><th>recall</th>")
    lines.append("<th>precision</th><th>opened</th><th>hours</th><th>seen before</th></tr>")
    for name, c in campaigns.items():
        lines.append(
            f"<tr><td>{name}</td><td>{c['became_case']}</td><td>{c['account_recall']}</td>"
            f"<td>{c['account_precision']}</td><td>{c['opened_at']}</td>"
            f"<td>{c['hours_from_start']}</td><td>{c['share_seen_before_case']}</td></tr>"
        )
    lines.append("</table>")
    lines.append(
        f"<p>honest accounts in cases: {result['honest_accounts_in_cases']} of "
        f"{result['honest_accounts']} ({100 * result['honest_share_in_cases']:.3f}%); "
        f"look-alike cases: {len(result['lookalike_cases'])}</p></body></html>"
    )
    return "\n".join(lines)


def report_text(result: dict[str, Any]) -> str:
    out = [f"scenario {result['scenario']}"]
    for name, c in result["campaigns"].items():
        out.append(
            f"  {name:9s} case={c['became_case']!s:5s} recall={c['account_recall']:.3f} "
            f"precision={c['account_precision']} opened={c['opened_at']} "
            f"hours={c['hours_from_start']} seen_before={c['share_seen_before_case']}"
        )
    out.append(
        f"  honest accounts in cases: {result['honest_accounts_in_cases']}/"
        f"{result['honest_accounts']} ({100 * result['honest_share_in_cases']:.3f}%)"
    )
    out.append(f"  look-alike cases: {len(result['lookalike_cases'])} {result['lookalike_cases']}")
    return "\n".join(out)


def evaluate_scenario(
    root: Path, *, out: Path | None = None, config: EngineConfig | None = None
) -> str:
    """Replay, grade, write ``evaluation.json`` and ``report.html``; returns the text report."""
    scenario = Scenario.load(root)
    config = config or EngineConfig()
    updates, fed, seconds = replay(scenario, config)
    result = grade(scenario, updates, gateway_programs=config.gateway_programs)
    result["replay"] = {"records": fed, "seconds": round(seconds, 1)}
    target = out or root / "evaluation"
    target.mkdir(parents=True, exist_ok=True)
    (target / "evaluation.json").write_text(json.dumps(result, indent=2) + "\n")
    (target / "report.html").write_text(report_html(result))
    text = report_text(result) + f"\n  replay: {fed} records in {seconds:.1f} s"
    (target / "report.txt").write_text(text + "\n")
    return text
