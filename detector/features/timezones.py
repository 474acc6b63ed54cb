"""Where a country's night falls in UTC, to tell an account's claimed home from the
hours it keeps.

An account that signs up from one country and sends most of its traffic in the dead
of night there lives somewhere else, or is a machine: the operator of a farm claims
whatever countries pass sign-up checks but works the hours of its own timezone.
Judged per account, from its own hour-of-day counts, never from a cluster's sum.

Offsets are standard time, hours east of UTC, as the span of the country's zones
(summer time moves a night by an hour, well inside the rule's margin). A country whose
zones span six hours or more has no hour that is night everywhere in it and is never
judged.
"""

from __future__ import annotations

import numpy as np
import polars as pl

# ISO 3166-1 alpha-2 -> (westernmost, easternmost) standard offset, whole hours
# (half-hour zones rounded down: India's 5:30 is 5).
# fmt: off
OFFSETS: dict[str, tuple[int, int]] = {
    # The Americas
    "US": (-8, -5), "CA": (-8, -4), "MX": (-7, -6), "BR": (-5, -3), "AR": (-3, -3),
    "CL": (-4, -4), "CO": (-5, -5), "PE": (-5, -5), "VE": (-4, -4), "EC": (-5, -5),
    "UY": (-3, -3), "PY": (-4, -3), "BO": (-4, -4), "CR": (-6, -6), "PA": (-5, -5),
    "GT": (-6, -6), "DO": (-4, -4), "PR": (-4, -4), "JM": (-5, -5), "CU": (-5, -5),
    # Europe
    "GB": (0, 0), "IE": (0, 0), "PT": (0, 0), "IS": (0, 0), "ES": (1, 1), "FR": (1, 1),
    "DE": (1, 1), "IT": (1, 1), "NL": (1, 1), "BE": (1, 1), "LU": (1, 1), "CH": (1, 1),
    "AT": (1, 1), "DK": (1, 1), "NO": (1, 1), "SE": (1, 1), "PL": (1, 1), "CZ": (1, 1),
    "SK": (1, 1), "HU": (1, 1), "SI": (1, 1), "HR": (1, 1), "RS": (1, 1), "BA": (1, 1),
    "MT": (1, 1), "AL": (1, 1), "MK": (1, 1), "ME": (1, 1), "FI": (2, 2), "EE": (2, 2),
    "LV": (2, 2), "LT": (2, 2), "UA": (2, 2), "RO": (2, 2), "BG": (2, 2), "GR": (2, 2),
    "CY": (2, 2), "MD": (2, 2), "BY": (3, 3), "RU": (2, 12), "TR": (3, 3),
    # Africa and the Middle East
    "EG": (2, 2), "ZA": (2, 2), "NG": (1, 1), "KE": (3, 3), "GH": (0, 0), "MA": (0, 1),
    "TN": (1, 1), "DZ": (1, 1), "ET": (3, 3), "TZ": (3, 3), "UG": (3, 3), "RW": (2, 2),
    "SN": (0, 0), "CI": (0, 0), "IL": (2, 2), "PS": (2, 2), "JO": (3, 3), "LB": (2, 2),
    "SA": (3, 3), "AE": (4, 4), "QA": (3, 3), "KW": (3, 3), "BH": (3, 3), "OM": (4, 4),
    "IR": (3, 3), "IQ": (3, 3),
    # Asia and Oceania
    "IN": (5, 5), "PK": (5, 5), "BD": (6, 6), "LK": (5, 5), "NP": (5, 5), "KZ": (5, 6),
    "UZ": (5, 5), "CN": (8, 8), "HK": (8, 8), "TW": (8, 8), "MO": (8, 8), "JP": (9, 9),
    "KR": (9, 9), "SG": (8, 8), "MY": (8, 8), "PH": (8, 8), "TH": (7, 7), "VN": (7, 7),
    "KH": (7, 7), "ID": (7, 9), "MN": (7, 8), "AU": (8, 10), "NZ": (12, 12),
}
# fmt: on
# Local hours of the dead of night: few people send anything then, on any continent.
NIGHT = range(0, 6)


def night_hours(country: str | None) -> frozenset[int]:
    """The UTC hours that are local night everywhere in ``country``; empty when the
    country is unknown or too wide to have one."""
    span = OFFSETS.get(country or "")
    if span is None:
        return frozenset()
    west, east = span
    return frozenset(
        utc
        for utc in range(24)
        if all((utc + offset) % 24 in NIGHT for offset in range(west, east + 1))
    )


def night_masks(countries: pl.Series) -> np.ndarray:
    """One row of 24 booleans (UTC hours) per country of ``countries``: where its
    night falls; all false for an unknown country."""
    known = sorted(OFFSETS)
    table = np.zeros((len(known) + 1, 24), dtype=bool)
    for row, country in enumerate(known):
        table[row, sorted(night_hours(country))] = True
    index = countries.fill_null("").replace_strict(
        {c: i for i, c in enumerate(known)}, default=len(known), return_dtype=pl.Int64
    )
    return table[index.to_numpy()]  # type: ignore[no-any-return]
