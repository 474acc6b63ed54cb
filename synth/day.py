"""One day of records: every population's rows, in event-time order, as an Arrow table."""

from __future__ import annotations

import json
import zlib

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from synth import rows
from synth.catalogue import KINDS, MODELS_PROVIDER, REASONING_MODES, USER_AGENT_NAMES
from synth.ids import compact, encoded, hex_strings, ipv4_strings
from synth.plan import Plan
from synth.rows import Columns
from synth.scenario import Scenario
from synth.texts import prompt_texts
from synth.tools import ListColumn, tool_sets

# Namespaces of the opaque ids (any distinct numbers would do; fixed so ids are stable).
NS_EVENT, NS_KEY, NS_USER, NS_SYSTEM, NS_TEMPLATE, NS_PROMPT = 11, 13, 17, 19, 23, 29
NS_ACCOUNT, NS_ORG, NS_PAYMENT = 31, 37, 41


def run_salt(scenario: Scenario) -> int:
    """A number derived from all of a run's parameters, added to every namespace.

    Ids of different runs never meet: replaying two runs into one detector must not
    merge their accounts, nor drop one run's records as duplicates of the other's.
    """
    text = json.dumps(scenario.to_dict(), sort_keys=True)
    return zlib.crc32(text.encode()) << 8


def account_ids(count: int, salt: int) -> pa.StringArray:
    """The opaque id of every account number below ``count``."""
    return hex_strings(np.arange(count), salt + NS_ACCOUNT, prefix="acct_")


def org_ids(codes: npt.NDArray[np.int64], salt: int) -> pa.StringArray:
    return hex_strings(codes, salt + NS_ORG, prefix="org_")


def _strings(values: tuple[str, ...] | list[str]) -> pa.StringArray:
    return pa.array(list(values), type=pa.string())


class DayBuilder:
    """Turns a plan's day into an Arrow table of canonical records."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.salt = salt = run_salt(plan.scenario)
        table = plan.accounts
        self.account_ids = account_ids(len(table), salt)
        # Dictionaries of distinct values only: accounts share organisations and
        # pools repeat addresses, and Parquet dictionaries should not hold duplicates.
        orgs, self.org_of_account = np.unique(table.org, return_inverse=True)
        self.org_ids = org_ids(orgs, salt)
        addresses, self.address_of_slot = np.unique(plan.ips, return_inverse=True)
        self.ips = ipv4_strings(addresses)
        models = (*plan.effective.old_models, plan.effective.new_model)
        self.vocab = {
            "model": _strings(models),
            "user_agent": _strings(USER_AGENT_NAMES),
            "channel": _strings(rows.CHANNELS),
            "reasoning": _strings(REASONING_MODES),
            "finish": _strings(rows.FINISH),
            "status": _strings(("success", "error")),
            "provider": _strings((MODELS_PROVIDER,)),
            "operation": _strings(("chat",)),
        }
        self.tools = ListColumn(tool_sets())
        self.calls = ListColumn(rows.CALL_SETS)
        self.flags = ListColumn(tuple(kind.flags for kind in KINDS))

    def columns(self, day: int) -> Columns:
        """The day's rows of every population as code columns, in time order."""
        plan = self.plan
        parts = []
        serial = day << 32
        for index, pop in enumerate(plan.populations):
            n = int(plan.daily[index, day])
            if n == 0:
                continue
            rng = np.random.default_rng([plan.effective.seed, day, index])
            parts.append(rows.draw(rng, pop, index, plan.accounts, plan.effective, day, n, serial))
            serial += n
        ts = np.concatenate([p["ts_start"] for p in parts])
        order = np.argsort(ts, kind="stable")
        # Each part is scattered straight to its sorted place: no concatenated copy.
        # Only the population-dependent columns move; the rest is made in order.
        place = np.empty_like(order)
        place[order] = np.arange(len(order))
        merged: Columns = {}
        offset = 0
        for part in parts:
            size = len(part["ts_start"])
            target = place[offset : offset + size]
            for name, values in part.items():
                if name not in merged:
                    merged[name] = np.empty(len(ts), dtype=_NARROW.get(name, values.dtype))
                merged[name][target] = values
            offset += size
        rng = np.random.default_rng([plan.effective.seed, day, 1_000_001])
        return rows.complete(rng, merged, plan.accounts)

    def table(self, day: int, cols: Columns) -> pa.Table:
        """The records of ``day``: ``RECORD_SCHEMA`` columns, strings dictionary-encoded
        where they repeat (Parquet readers get plain strings back)."""
        n = len(cols["ts_start"])
        accounts = len(self.plan.accounts)
        used, account_rank = compact(cols["account"], accounts)
        keys, key_rank = compact(cols["key"], accounts * 8)
        orgs, org_rank = compact(self.org_of_account[cols["account"]], len(self.org_ids))
        ips, ip_rank = compact(self.address_of_slot[cols["ip"]], len(self.ips))
        system = cols["system"]
        vocab = self.vocab
        # A few rows carry their text instead of fingerprints; the server derives them.
        texts, has_text = self._texts(day, cols["kind"], cols["source"])
        prompt_chars = cols["prompt_chars"].astype(np.int64)
        if texts is not None:
            prompt_chars[has_text] = [len(t) for t in texts.to_pylist()]
        position = np.cumsum(has_text) - 1
        data = {
            "event_id": hex_strings(
                (day << 32) + np.arange(n), self.salt + NS_EVENT, prefix="evt_"
            ),
            "ts_start": pa.array(cols["ts_start"]),
            "account_id": encoded(self.account_ids.take(pa.array(used)), account_rank),
            "request_model": encoded(vocab["model"], cols["model"]),
            "ts_end": pa.array(cols["ts_end"]),
            "api_key_id": encoded(hex_strings(keys, self.salt + NS_KEY, prefix="key_"), key_rank),
            "org_id": encoded(
                self.org_ids.take(pa.array(orgs)),
                org_rank,
                valid=~cols["no_org"] if cols["no_org"].any() else None,
            ),
            "end_user_id": hex_strings(
                cols["end_user"], self.salt + NS_USER, prefix="user_", valid=cols["end_user"] >= 0
            ),
            "client_ip": encoded(self.ips.take(pa.array(ips)), ip_rank),
            "user_agent": encoded(vocab["user_agent"], cols["user_agent"]),
            "provider": encoded(vocab["provider"], np.zeros(n, np.int8)),
            "operation": encoded(vocab["operation"], np.zeros(n, np.int8)),
            "channel": encoded(vocab["channel"], cols["channel"]),
            "input_tokens": _int(cols["input_tokens"]),
            "output_tokens": _int(cols["output_tokens"]),
            "reasoning_output_tokens": _int(cols["reasoning_tokens"]),
            "cache_read_input_tokens": _int(cols["cache_tokens"]),
            "reasoning_mode": encoded(vocab["reasoning"], cols["reasoning"]),
            "tool_names": self.tools.build(cols["tool_set"]),
            "response_tool_call_names": self.calls.build(cols["call"]),
            "image_inputs": _int(cols["images"]),
            "message_count": _int(cols["messages"]),
            "system_fingerprint": hex_strings(
                system, self.salt + NS_SYSTEM, digits=32, valid=system >= 0
            ),
            "prompt_fingerprint": hex_strings(
                cols["prompt"], self.salt + NS_PROMPT, digits=32, valid=~has_text
            ),
            "template_fingerprint": hex_strings(
                cols["template"], self.salt + NS_TEMPLATE, digits=32, valid=~has_text
            ),
            "prompt_chars": pa.array(prompt_chars),
            "prompt_text": pa.nulls(n, pa.string())
            if texts is None
            else encoded(texts, np.maximum(position, 0), valid=has_text),
            "content_flags": self.flags.build(cols["flags"]),
            "status": encoded(vocab["status"], cols["error"].astype(np.int8)),
            "http_status": _int(cols["http"]),
            "finish_reason": encoded(
                vocab["finish"], np.maximum(cols["finish"], 0), valid=cols["finish"] >= 0
            ),
            "stream": pa.array(cols["stream"]),
        }
        return pa.Table.from_pydict(data)

    def _texts(
        self, day: int, kinds: npt.NDArray[np.generic], sources: npt.NDArray[np.generic]
    ) -> tuple[pa.StringArray | None, npt.NDArray[np.bool_]]:
        scenario = self.plan.effective
        rng = np.random.default_rng([scenario.seed, day, 1_000_003])
        has_text = rng.random(len(kinds)) < scenario.prompt_text_share
        if not has_text.any():
            return None, has_text
        languages = self._languages(day, sources[has_text])
        texts = prompt_texts(scenario.seed, day, kinds[has_text], languages)  # type: ignore[arg-type]
        return pa.array(texts, type=pa.string()), has_text

    def _languages(self, day: int, sources: npt.NDArray[np.generic]) -> list[str] | None:
        """Each text's language, from the world's mix for campaigns or honest traffic
        (None: all English, as the default scenario)."""
        scenario = self.plan.effective
        english = (("en", 1.0),)
        if scenario.campaign_languages == english and scenario.honest_languages == english:
            return None
        rng = np.random.default_rng([scenario.seed, day, 1_000_005])
        campaign = np.array([p.kind == "campaign" for p in self.plan.populations])[
            sources.astype(np.int64)
        ]
        out = []
        for is_campaign, u in zip(campaign, rng.random(len(sources)), strict=True):
            mix = scenario.campaign_languages if is_campaign else scenario.honest_languages
            weights = np.cumsum([w for _, w in mix])
            out.append(mix[min(int(np.searchsorted(weights, u * weights[-1])), len(mix) - 1)][0])
        return out


def _int(values: npt.NDArray[np.generic]) -> pa.Array:
    return pa.array(values.astype(np.int64, copy=False))


_NARROW: dict[str, type[np.generic]] = {
    "account": np.int32,
    "model": np.int8,
    "ip": np.int32,
    "user_agent": np.int8,
    "channel": np.int8,
    "input_tokens": np.int32,
    "output_tokens": np.int32,
    "reasoning_tokens": np.int32,
    "cache_tokens": np.int32,
    "reasoning": np.int8,
    "tool_set": np.int16,
    "call": np.int16,
    "images": np.int8,
    "messages": np.int16,
    "prompt_chars": np.int32,
    "flags": np.int8,
    "kind": np.int8,
    "http": np.int16,
    "finish": np.int8,
    "source": np.int8,
}
