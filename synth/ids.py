"""Opaque, deterministic identifiers computed column-wise.

Every id in the synthetic data (event ids, account and key ids, fingerprints, IP
addresses) is a bijective 64-bit mix of a small integer code and a namespace, so
that ids are unique where codes are, repeatable for a seed, and look alike for
campaign and honest accounts: nothing in an id says who made it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

U64 = npt.NDArray[np.uint64]

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def mix(codes: npt.ArrayLike, namespace: int) -> U64:
    """SplitMix64's finaliser of ``codes + namespace * golden``: a bijection per namespace."""
    with np.errstate(over="ignore"):
        x = np.asarray(codes).astype(np.uint64) + np.uint64(namespace) * _GOLDEN
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


# Two hex digits per byte value, so a 64-bit value is 8 table look-ups.
_PAIRS = np.array(
    [int.from_bytes(f"{b:02x}".encode(), "little") for b in range(256)], dtype=np.uint16
)


def _hex_digits(values: U64) -> npt.NDArray[np.uint8]:
    """The 16 lower-case hex digits of each value, as an (n, 16) byte matrix."""
    big_endian = values.astype(">u8").view(np.uint8).reshape(-1, 8)
    return _PAIRS[big_endian].view(np.uint8)


def hex_strings(
    codes: npt.ArrayLike,
    namespace: int,
    *,
    prefix: str = "",
    digits: int = 16,
    valid: npt.NDArray[np.bool_] | None = None,
) -> pa.StringArray:
    """``prefix`` + ``digits`` hex digits (16 or 32) per code, as an Arrow string array.

    The strings are laid out in one buffer, so a million ids cost a few milliseconds.
    ``valid`` marks which entries are present; the others are null.
    """
    first = mix(codes, namespace)
    n = len(first)
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    width = len(head) + digits
    body = np.empty((n, width), dtype=np.uint8)
    body[:, : len(head)] = head
    body[:, len(head) : len(head) + 16] = _hex_digits(first)
    if digits == 32:
        body[:, len(head) + 16 :] = _hex_digits(mix(first, namespace + 1))
    elif digits != 16:
        raise ValueError(f"digits: {digits} must be 16 or 32")
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    validity = None if valid is None else pa.array(valid).buffers()[1]
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(body), validity)


def ipv4_strings(addresses: npt.NDArray[np.uint32]) -> pa.StringArray:
    """Dotted-quad text of 32-bit addresses."""
    octets = [(addresses >> np.uint32(s)) & np.uint32(0xFF) for s in (24, 16, 8, 0)]
    texts = [pa.array(o.astype(np.int64)).cast(pa.string()) for o in octets]
    return pc.binary_join_element_wise(*texts, ".")


def encoded(
    vocabulary: pa.StringArray,
    indices: npt.NDArray[np.integer],
    valid: npt.NDArray[np.bool_] | None = None,
) -> pa.DictionaryArray:
    """``vocabulary[indices]`` as a dictionary array (null where not ``valid``).

    Parquet stores such a column as plain UTF-8 strings (dictionary-encoded pages),
    so readers see strings; writing it skips materialising every string.
    """
    mask = None if valid is None else ~valid
    codes = pa.array(indices.astype(np.int32), mask=mask)
    return pa.DictionaryArray.from_arrays(codes, vocabulary)


def compact(
    codes: npt.NDArray[np.integer], size: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The distinct values of ``codes`` (all in ``0..size-1``) and each row's index among them.

    Parquet writers fall back from dictionary to plain pages when a dictionary
    passes about 1 MB, so a day's column carries only the values that day uses.
    Linear time: a presence table instead of a sort.
    """
    used = np.zeros(size, dtype=np.bool_)
    used[codes] = True
    rank = np.cumsum(used) - 1
    return np.flatnonzero(used), rank[codes]
