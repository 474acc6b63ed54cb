"""The account table: identities and per-account behaviour, as numpy columns.

Populations append blocks of accounts through ``AccountBuilder``; the finished
``AccountTable`` is indexed by a global account number that rows refer to.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import numpy.typing as npt

from synth.catalogue import COUNTRY_TZ

# First octets of public space only: those holding private, loopback, CGNAT,
# link-local or documentation ranges (RFC 6890) are left out, as is multicast.
_RESERVED = {0, 10, 100, 127, 169, 172, 192, 198, 203}
_PUBLIC_FIRST_OCTETS = np.array(
    [octet for octet in range(1, 224) if octet not in _RESERVED], dtype=np.uint32
)


def public_ipv4(rng: np.random.Generator, n: int) -> npt.NDArray[np.uint32]:
    """``n`` random public-looking IPv4 addresses (host part never 0 or 255)."""
    first = rng.choice(_PUBLIC_FIRST_OCTETS, size=n)
    middle = rng.integers(0, 1 << 16, size=n, dtype=np.uint32)
    host = rng.integers(1, 255, size=n, dtype=np.uint32)
    return (first << np.uint32(24)) | (middle << np.uint32(8)) | host


def same_prefix(
    rng: np.random.Generator, prefixes: npt.NDArray[np.uint32], n: int
) -> npt.NDArray[np.uint32]:
    """``n`` addresses spread over the /24 networks of ``prefixes``."""
    base = rng.choice(prefixes, size=n) & np.uint32(0xFFFFFF00)
    return base | rng.integers(1, 255, size=n, dtype=np.uint32)


@dataclass
class AccountTable:
    """One row per account; every array has the same length."""

    population: npt.NDArray[np.int16] = field(default_factory=lambda: np.empty(0, np.int16))
    group: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    org: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    payment: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    email_domain: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    signup_ip: npt.NDArray[np.uint32] = field(default_factory=lambda: np.empty(0, np.uint32))
    country: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    program: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    verified: npt.NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, np.bool_))
    created_at: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0, np.float64))
    active_from: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0, np.float64))
    active_to: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0, np.float64))
    weight: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0, np.float64))
    user_agent: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    ip_start: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    ip_count: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    keys: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    end_users: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    tz: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    stream: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0, np.float64))
    cache_rate: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0, np.float64))
    classified: npt.NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, np.bool_))
    tool_set: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    # The task kind the account mostly does (-1: none, it follows its population's mix).
    focus: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    channel: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    # Codes of the account's own system prompts and templates (count 0: none of its own).
    system_base: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    system_count: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    template_base: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    template_count: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    # An account hidden behind a reseller (``synth.resellers``): the reseller's account
    # number that sends its calls and the end-user code they carry (-1: its own calls).
    via: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    via_user: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    # Calls for many end users, each bringing its own tool schema (a reseller's).
    customer_tools: npt.NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, np.bool_))

    def __len__(self) -> int:
        return len(self.population)


class AccountBuilder:
    """Appends blocks of accounts; unspecified columns get neutral defaults."""

    def __init__(self) -> None:
        self._blocks: list[dict[str, npt.NDArray[np.generic]]] = []
        self.count = 0
        self.ips: list[npt.NDArray[np.uint32]] = []
        self.ip_total = 0

    def add_ips(self, addresses: npt.NDArray[np.uint32]) -> int:
        """Store ``addresses`` in the global IP table; returns the index of the first."""
        start = self.ip_total
        self.ips.append(addresses.astype(np.uint32))
        self.ip_total += len(addresses)
        return start

    def add(self, population: int, n: int, **columns: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Append ``n`` accounts of ``population``; returns their global numbers."""
        block: dict[str, npt.NDArray[np.generic]] = {}
        defaults: dict[str, object] = {
            "group": -1,
            "payment": -1,
            "program": 0,
            "verified": True,
            "keys": 1,
            "end_users": 0,
            "stream": 0.5,
            "cache_rate": 0.2,
            "classified": False,
            "tool_set": -1,
            "focus": -1,
            "channel": 0,
            "system_count": 0,
            "system_base": 0,
            "template_count": 0,
            "template_base": 0,
            "via": -1,
            "via_user": -1,
            "customer_tools": False,
        }
        numbers = np.arange(self.count, self.count + n, dtype=np.int64)
        for f in fields(AccountTable):
            if f.name == "population":
                block[f.name] = np.full(n, population, dtype=np.int16)
                continue
            value = columns.pop(f.name, defaults.get(f.name))
            if value is None:
                if f.name == "org":
                    value = numbers  # every account its own organisation
                elif f.name == "tz":
                    value = COUNTRY_TZ[np.asarray(columns.get("country", block.get("country")))]
                else:
                    raise ValueError(f"{f.name}: required for population {population}")
            dtype = np.empty(0, dtype=_dtype(f.name)).dtype
            block[f.name] = np.broadcast_to(np.asarray(value, dtype=dtype), (n,)).copy()
        if columns:
            raise ValueError(f"unknown account column(s): {', '.join(columns)}")
        self._blocks.append(block)
        self.count += n
        return numbers

    def build(self) -> tuple[AccountTable, npt.NDArray[np.uint32]]:
        table = AccountTable()
        for f in fields(AccountTable):
            setattr(table, f.name, np.concatenate([b[f.name] for b in self._blocks]))
        return table, np.concatenate(self.ips)


def _dtype(name: str) -> type[np.generic]:
    kinds: dict[str, type[np.generic]] = {
        "population": np.int16,
        "signup_ip": np.uint32,
        "verified": np.bool_,
        "classified": np.bool_,
        "customer_tools": np.bool_,
        "created_at": np.float64,
        "active_from": np.float64,
        "active_to": np.float64,
        "weight": np.float64,
        "stream": np.float64,
        "cache_rate": np.float64,
    }
    return kinds.get(name, np.int64)
