"""The calls of one day, as numpy columns of codes.

``draw`` makes what depends on a population (who calls when, which task, model
and prompt); ``complete`` adds what follows from the task and the account, once
the day's rows are in time order. Strings are not made here: every string column
is a code (an index into a small vocabulary, or an integer hashed into an opaque
id later), so a day of a million rows is a few dozen numpy arrays; ``synth.day``
turns them into Arrow columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from synth import timing
from synth.accounts import AccountTable
from synth.catalogue import (
    COUNTRY_TZ,
    COUNTRY_WEIGHTS,
    ERROR_STATUSES,
    KIND_INDEX,
    KINDS,
    POPULAR_TOOL_SETS,
    USER_AGENT_WEIGHTS,
)
from synth.populations import (
    BATCH,
    FLAT,
    FRESH,
    HUMAN,
    ITEM_CODES,
    LOCKSTEP,
    RUNS,
    WORK,
    Population,
)
from synth.scenario import DAY, Scenario
from synth.tools import tool_sets

Columns = dict[str, npt.NDArray[Any]]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

OWN_SYSTEM = 6 << 40  # an account's own system prompts: OWN_SYSTEM + account * 16 + k
OWN_TEMPLATE = 7 << 40
CUSTOMER_SYSTEM = 8 << 40  # system prompts of a proxy's many customers
FRESH_TEMPLATE = 9 << 40
TUTORIAL_PROMPTS = 10 << 40
CHANNELS = ("api", "cloud:bedrock", "cloud:vertex", "batch")
FINISH = ("end_turn", "tool_use", "max_tokens")

_TOOLS = tool_sets()
_TOOL_LENGTHS = np.array([len(t) for t in _TOOLS], dtype=np.int64)
# Tool calls in a response: one of the offered tools, as a one-name list.
CALL_SETS = tuple((name,) for names in _TOOLS for name in names)
_CALL_STARTS = np.concatenate([[0], np.cumsum(_TOOL_LENGTHS)[:-1]])
_KIND_TOOLS = np.array([k.tools for k in KINDS])
_KIND_FLAGS = np.array([bool(k.flags) for k in KINDS])
_REASONING = np.cumsum(np.array([k.reasoning for k in KINDS]), axis=1)
_REASONING /= _REASONING[:, -1:]
_IMAGES = np.array([k.images for k in KINDS], dtype=np.int64)
_MESSAGES = np.array([k.messages for k in KINDS], dtype=np.int64)
_IN = np.array([k.input_tokens for k in KINDS])
_OUT = np.array([k.output_tokens for k in KINDS])
_CHARS = np.array([k.prompt_chars for k in KINDS])
_COT = KIND_INDEX["cot_elicitation"]
_UA_CDF = np.cumsum(USER_AGENT_WEIGHTS)
_TZ_CDF = np.cumsum(COUNTRY_WEIGHTS)


def _choice(rng: np.random.Generator, codes: I64, n: int) -> I64:
    return codes[rng.integers(0, len(codes), n)]


def _lognormal(rng: np.random.Generator, params: F64, kind: I64) -> I64:
    values = np.exp(params[kind, 0] + params[kind, 1] * rng.standard_normal(len(kind)))
    out: I64 = np.maximum(values, 1).astype(np.int64)
    return out


def place(
    rng: np.random.Generator, pop: Population, accounts: AccountTable, day: int, n: int
) -> tuple[I64, F64, I64]:
    """Which account makes each of the day's ``n`` calls, and when (seconds into the day).

    Also returns each row's position among its account's rows of the day.
    """
    weights = pop.activity[:, day]
    if pop.timing == LOCKSTEP:
        active = pop.accounts[weights > 0]
        seconds, who = timing.lockstep(rng, n, active, pop.lockstep_rate)
        return who, seconds, np.zeros(n, dtype=np.int64)
    counts = rng.multinomial(n, weights / weights.sum())
    who = np.repeat(pop.accounts, counts)
    nonzero = counts[counts > 0]
    if pop.timing in (HUMAN, WORK):
        if pop.row_timezones:
            tz = COUNTRY_TZ[np.searchsorted(_TZ_CDF, rng.random(n) * _TZ_CDF[-1])]
        else:
            tz = accounts.tz[who]
        seconds = timing.sessions(rng, nonzero, tz, pop.timing, 12 if pop.timing == HUMAN else 20)
    elif pop.timing == FLAT:
        seconds = timing.flat(rng, n)
    elif pop.timing == RUNS:
        seconds = timing.runs(rng, nonzero)
    elif pop.timing == BATCH:
        seconds = timing.batch(rng, nonzero)
    else:
        raise ValueError(f"timing: unknown mode {pop.timing!r}")
    return who, np.minimum(seconds, DAY - 1e-3), timing.within_group(nonzero)


def draw(
    rng: np.random.Generator,
    pop: Population,
    source: int,
    accounts: AccountTable,
    scenario: Scenario,
    day: int,
    n: int,
    serial: int,
) -> Columns:
    """What depends on the population: who calls when, the task, model, prompts, address.

    ``serial`` numbers the day's fresh prompts. The rest of a record follows from
    these columns and the account (``complete``), after the day is put in time order.
    """
    who, seconds, position = place(rng, pop, accounts, day, n)
    n = len(who)
    ts = scenario.start_epoch + day * DAY + seconds
    local = who - pop.accounts[0]  # population-local account number
    u = rng.random((5, n))

    # Task kind: the account's focus, or the population's mix of the row's phase.
    cdf = np.cumsum(pop.mix)
    kind = np.searchsorted(cdf, u[0] * cdf[-1])
    if pop.mix2 is not None:
        cdf2 = np.cumsum(pop.mix2)
        later = ts >= pop.phase2_at
        kind = np.where(later, np.searchsorted(cdf2, u[0] * cdf2[-1]), kind)
    if pop.focus_share > 0:
        focus = accounts.focus[who]
        kind = np.where((focus >= 0) & (u[1] < pop.focus_share), focus, kind)
    kind = np.minimum(kind, len(KINDS) - 1)

    # Model: the population's usual mix, moved to the new model after the release.
    old_cdf = np.cumsum(pop.old_models)
    model = np.searchsorted(old_cdf, rng.random(n) * old_cdf[-1])
    hours = (ts - scenario.release_epoch) / 3600.0
    new = (hours >= 0) & (u[2] < pop.pivot.new_share(hours))
    model = np.where(new, len(scenario.old_models), model)

    system, template, prompt = _prompts(rng, pop, accounts, who, local, kind, ts, position, serial)
    user_agent = accounts.user_agent[who]
    if pop.user_agent_spread > 0:
        other = np.searchsorted(_UA_CDF, rng.random(n) * _UA_CDF[-1])
        user_agent = np.where(u[3] < pop.user_agent_spread, other, user_agent)
    # Drawn last and only when some rows lack it, so other populations draw as before.
    no_org = rng.random(n) >= pop.org_share if pop.org_share < 1 else np.zeros(n, np.bool_)
    return {
        "ts_start": np.round(ts, 3),
        "account": who,
        "kind": kind,
        "model": model,
        "system": system,
        "template": template,
        "prompt": prompt,
        "ip": _addresses(rng, pop, accounts, who),
        "user_agent": user_agent,
        "error": u[4] < pop.error_rate,
        "thinking": np.full(n, pop.thinking_always),
        "source": np.full(n, source, dtype=np.int64),
        "no_org": no_org,
    }


def complete(rng: np.random.Generator, cols: Columns, accounts: AccountTable) -> Columns:
    """The rest of each record, from its task kind and its account: tokens, tools,
    reasoning, outcome, timing of the end. Adds the columns to ``cols`` and returns it."""
    kind, who, error = cols["kind"], cols["account"], cols["error"]
    n = len(kind)
    u = rng.random((2, n))
    reasoning = (rng.random(n)[:, None] > _REASONING[kind]).sum(axis=1)
    reasoning = np.where(cols["thinking"] & (reasoning == 0), 1, reasoning)
    tool_set = accounts.tool_set[who]
    tools = _KIND_TOOLS[kind] & (tool_set >= 0)
    tool_set = np.where(tools, tool_set, -1)
    finish = np.where(
        tools,
        np.where(u[0] < 0.6, 1, np.where(u[0] < 0.95, 0, 2)),
        np.where(u[0] < 0.93, 0, 2),
    )
    finish = np.where(error, -1, finish)
    safe_set = np.maximum(tool_set, 0)
    call = _CALL_STARTS[safe_set] + (u[1] * _TOOL_LENGTHS[safe_set]).astype(np.int64)

    input_tokens = _lognormal(rng, _IN, kind)
    output_tokens = np.where(error, 0, _lognormal(rng, _OUT, kind))
    reasoning_tokens = np.where(
        reasoning > 0, (output_tokens * rng.uniform(0.3, 0.85, n)).astype(np.int64), 0
    )
    cache_share = np.clip(accounts.cache_rate[who] + rng.normal(0, 0.08, n), 0, 0.98)
    speed = rng.uniform(40, 120, n)  # output tokens per second
    latency = np.where(error, rng.uniform(0.05, 2.0, n), 0.4 + output_tokens / speed)
    lo, hi = _IMAGES[kind, 0], _IMAGES[kind, 1]
    images = lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64)
    lo, hi = _MESSAGES[kind, 0], _MESSAGES[kind, 1]
    users = accounts.end_users[who]
    channel = accounts.channel[who]
    cols.update(
        ts_end=np.round(cols["ts_start"] + latency, 3),
        key=who * 8 + (rng.random(n) * accounts.keys[who]).astype(np.int64),
        end_user=np.where(
            users > 0, who * (1 << 20) + (rng.random(n) ** 2 * users).astype(np.int64), -1
        ),
        channel=channel,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        reasoning_tokens=reasoning_tokens,
        cache_tokens=(input_tokens * cache_share).astype(np.int64),
        reasoning=reasoning,
        tool_set=tool_set,
        call=np.where(finish == 1, call, -1),
        images=images,
        messages=lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64),
        prompt_chars=_lognormal(rng, _CHARS, kind),
        flags=np.where(accounts.classified[who] & _KIND_FLAGS[kind], kind, -1),
        http=np.where(error, ERROR_STATUSES[rng.integers(0, len(ERROR_STATUSES), n)], 200),
        finish=finish,
        stream=(rng.random(n) < accounts.stream[who]) & (channel != CHANNELS.index("batch")),
    )
    # Only where some account has them, so that other runs draw and write as before.
    customers = accounts.customer_tools[who]
    if customers.any():
        tool_set = np.where(
            customers & (tool_set >= 0), _end_user_tools(cols["end_user"]), tool_set
        )
        safe_set = np.maximum(tool_set, 0)
        call = _CALL_STARTS[safe_set] + (u[1] * _TOOL_LENGTHS[safe_set]).astype(np.int64)
        cols.update(tool_set=tool_set, call=np.where(finish == 1, call, -1))
    if (accounts.via[who] >= 0).any():
        _behind_resellers(cols, accounts)
    return cols


def _end_user_tools(end_user: I64) -> I64:
    """The tool schema each end user of a reseller brings, fixed by its code: half a
    popular one, half one of the private ones (a multiplicative hash, no draw)."""
    with np.errstate(over="ignore"):
        mixed = (end_user.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(33)
    popular = len(POPULAR_TOOL_SETS)
    out: I64 = np.where(
        mixed % np.uint64(2) == 0,
        (mixed >> np.uint64(1)) % np.uint64(popular),
        popular + (mixed >> np.uint64(1)) % np.uint64(len(_TOOLS) - popular),
    ).astype(np.int64)
    return out


def _behind_resellers(cols: Columns, accounts: AccountTable) -> None:
    """Rows of accounts hidden behind a reseller become the reseller's, each with the
    end user the hidden account appears as, on one of the reseller's keys (the
    hidden account carries the reseller's key count, ``resellers.hide``)."""
    who = cols["account"].astype(np.int64)
    via = accounts.via[who]
    hidden = via >= 0
    cols["end_user"] = np.where(hidden, accounts.via_user[who], cols["end_user"])
    cols["key"] = np.where(hidden, cols["key"] + (via - who) * 8, cols["key"])
    cols["account"] = np.where(hidden, via, who)


def _addresses(rng: np.random.Generator, pop: Population, accounts: AccountTable, who: I64) -> I64:
    n = len(who)
    start, count = accounts.ip_start[who], accounts.ip_count[who]
    if pop.ip_mode == "proxy_benign":
        from_cdf = np.searchsorted(pop_cdf(pop), rng.random(n))
        return start + np.minimum(from_cdf, count - 1)
    return start + (rng.random(n) * count).astype(np.int64)


def pop_cdf(pop: Population) -> F64:
    if pop.proxy_cdf is None:
        raise ValueError(f"{pop.name}: ip_mode proxy_benign needs proxy_cdf")
    return pop.proxy_cdf


def _prompts(
    rng: np.random.Generator,
    pop: Population,
    accounts: AccountTable,
    who: I64,
    local: I64,
    kind: I64,
    ts: F64,
    position: I64,
    serial: int,
) -> tuple[I64, I64, I64]:
    """System-prompt, template and prompt codes (-1: none)."""
    n = len(who)
    u = rng.random((3, n))
    fresh = serial + np.arange(n, dtype=np.int64)
    if pop.tutorial_decay_days > 0 and pop.cohort_start is not None:
        age = (ts - pop.cohort_start[local]) / DAY
        own = np.exp(-np.maximum(age, 0) / pop.tutorial_decay_days)
    else:
        own = np.full(n, 1.0 - pop.template_fresh)

    # System prompt: the population's shared ones, else the account's own.
    count = accounts.system_count[who]
    base = np.where(
        accounts.system_base[who] != 0, accounts.system_base[who], OWN_SYSTEM + who * 16
    )
    own_system = base + (u[0] * np.maximum(count, 1)).astype(np.int64)
    customer = CUSTOMER_SYSTEM + rng.integers(0, 200_000, n)
    system = np.where(count > 0, own_system, customer)
    if pop.tutorial_decay_days > 0:
        system = np.where(u[0] < own, own_system, customer)
    system = np.where(u[1] < pop.no_system, -1, system)
    if pop.systems is not None:
        system = _choice(rng, pop.systems, n)
        if pop.systems2 is not None:
            system = np.where(kind == _COT, _choice(rng, pop.systems2, n), system)

    # Template of the last user turn: shared, the account's own, or fresh.
    fresh_template = FRESH_TEMPLATE + fresh
    t_count = accounts.template_count[who]
    t_base = np.where(
        accounts.template_base[who] != 0, accounts.template_base[who], OWN_TEMPLATE + who * 16
    )
    account_template = t_base + (u[2] * np.maximum(t_count, 1)).astype(np.int64)
    reuse = u[2] < own
    template = np.where(reuse & (t_count > 0), account_template, fresh_template)
    if pop.templates is not None:
        template = np.where(reuse, _choice(rng, pop.templates, n), fresh_template)
        if pop.templates2 is not None:
            cot = kind == _COT
            template = np.where(cot & reuse, _choice(rng, pop.templates2, n), template)

    prompt = FRESH + fresh
    if pop.items > 0:
        # Every run replays the same items in the same order: exact duplicates.
        prompt = ITEM_CODES + accounts.group[who] * 1_000_000 + position % pop.items
    elif pop.tutorial_decay_days > 0:
        copied = rng.random(n) < own * 0.5
        tutorial = TUTORIAL_PROMPTS + accounts.group[who] * 1_000 + rng.integers(0, 20, n)
        prompt = np.where(copied, tutorial, prompt)
    return system, template, prompt
