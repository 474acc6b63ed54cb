"""Process-wide memory settings for the long-running service.

An ingest batch of 5,000 records allocates buffers of a few megabytes (the body, the
JSON array, the encoded segment), on whichever worker thread takes the request. With
glibc's defaults each such buffer is a fresh ``mmap``, and freed memory goes back to
the system at once, so every batch pays page faults for memory the next one will ask
for again: half a fault per record, a tenth of ingest's CPU time spent in the kernel.
"""

from __future__ import annotations

import ctypes
import gc
import sys

# glibc's mallopt(3) parameters, from <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3

# 32 MiB is the largest mmap threshold glibc accepts on 64-bit systems. Keeping up to
# 256 MiB of freed heap holds a few batches' worth for reuse: the service's resident
# size stays near its peak instead of shrinking between batches.
_SETTINGS = {
    _M_MMAP_THRESHOLD: 32 * 2**20,
    _M_TRIM_THRESHOLD: 256 * 2**20,
    _M_TOP_PAD: 16 * 2**20,
}


def settle() -> None:
    """Call once, after start-up: freeze the start-up heap and keep batch buffers."""
    # Everything imported and built so far lives as long as the process: move it out
    # of the cyclic collector's sight, so that the full collections a busy ingest
    # triggers scan only what requests allocate.
    gc.freeze()
    keep_freed_memory()


def keep_freed_memory() -> bool:
    """Serve batch-sized buffers from the heap and keep freed memory for reuse;
    False where the C library has no ``mallopt`` (not glibc) or refuses a value."""
    if not sys.platform.startswith("linux"):
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return all(mallopt(param, value) == 1 for param, value in _SETTINGS.items())
