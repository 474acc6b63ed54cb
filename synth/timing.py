"""When calls start, within one UTC day: human sessions, flat automation, lockstep.

Every function returns seconds since the start of the day, in [0, 86400).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from synth.scenario import DAY

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# Relative activity per local hour: people at work and at home, and office hours only.
_HUMAN = np.concatenate(
    [
        [0.2, 0.12, 0.08, 0.06, 0.06, 0.1, 0.25, 0.5, 0.85, 1, 1, 1],  # midnight to noon
        [0.9, 1, 1, 1, 0.9, 0.8, 0.7, 0.65, 0.6, 0.55, 0.45, 0.3],
    ]
)
_WORK = np.array([0.03] * 8 + [0.6, 1, 1, 1, 0.7, 1, 1, 1, 0.9, 0.5] + [0.15] * 6)
PROFILES = {"human": np.cumsum(_HUMAN) / _HUMAN.sum(), "work": np.cumsum(_WORK) / _WORK.sum()}


def within_group(counts: I64) -> I64:
    """For rows grouped by ``counts``, each row's position inside its group."""
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out: I64 = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(offsets, counts)
    return out


def sessions(
    rng: np.random.Generator, counts: I64, tz_hours: I64, profile: str, per_session: int
) -> F64:
    """Rows of each account (grouped by ``counts``) bunched into a few sessions.

    Session starts follow the local-hour ``profile``; ``tz_hours`` is one value per
    row. Sessions of different accounts are independent, so honest per-minute
    counts do not move together.
    """
    n_sessions = 1 + counts // per_session
    session_offsets = np.concatenate([[0], np.cumsum(n_sessions)[:-1]])
    total_sessions = int(n_sessions.sum())
    local_hour = np.searchsorted(PROFILES[profile], rng.random(total_sessions))
    starts = local_hour * 3600.0 + rng.uniform(0, 3600, total_sessions)
    lengths = rng.uniform(300, 2700, total_sessions)
    per_row = np.repeat(n_sessions, counts)
    session = np.repeat(session_offsets, counts) + (rng.random(len(per_row)) * per_row).astype(
        np.int64
    )
    local = starts[session] + rng.random(len(session)) * lengths[session]
    return (local - tz_hours * 3600.0) % DAY  # type: ignore[no-any-return]


def flat(rng: np.random.Generator, n: int) -> F64:
    """Round-the-clock automation: uniform over the day."""
    return rng.uniform(0, DAY, n)


def runs(rng: np.random.Generator, counts: I64) -> F64:
    """Evaluation runs: each account's rows of the day in one bounded, ordered burst."""
    starts = rng.uniform(3600, 9 * 3600, len(counts))
    rate = rng.uniform(3, 12, len(counts))  # items per second
    duration = np.minimum(np.maximum(counts, 1) / rate, 4 * 3600)
    position = within_group(counts) / np.repeat(np.maximum(counts, 1), counts)
    return np.repeat(starts, counts) + position * np.repeat(duration, counts)  # type: ignore[no-any-return]


def batch(rng: np.random.Generator, counts: I64) -> F64:
    """Batch jobs: uniform within one window of a few hours per account and day."""
    starts = rng.uniform(0, 12 * 3600, len(counts))
    lengths = rng.uniform(4 * 3600, 12 * 3600, len(counts))
    return np.repeat(starts, counts) + rng.random(int(counts.sum())) * np.repeat(lengths, counts)


def lockstep(
    rng: np.random.Generator, n: int, accounts: I64, per_account_per_minute: float
) -> tuple[F64, I64]:
    """A driver that load-balances round-robin over ``accounts``.

    The day's ``n`` calls fall into a few blocks of busy minutes; in each minute the
    calls go to the accounts in turn, so every account's per-minute count follows
    the driver's and per-minute counts correlate strongly across accounts.
    Returns (seconds since midnight, account) per call.
    """
    width = len(accounts)
    busy = max(1, int(np.ceil(n / (width * per_account_per_minute))))
    blocks = max(1, busy // 20)
    block_starts = rng.integers(0, 1440 - 30, blocks)
    minutes = np.unique((block_starts[:, None] + np.arange(30)[None, :]).ravel())[:busy]
    minutes = np.sort(rng.choice(minutes, size=min(busy, len(minutes)), replace=False))
    per_minute = rng.multinomial(n, _normalised(rng.lognormal(0, 0.3, len(minutes))))
    minute = np.repeat(minutes, per_minute)
    turn = within_group(per_minute) + np.repeat(rng.integers(0, width, len(minutes)), per_minute)
    seconds = minute * 60.0 + rng.uniform(0, 60, n)
    return seconds, accounts[turn % width]


def _normalised(x: F64) -> F64:
    return x / x.sum()  # type: ignore[no-any-return]
