"""Detects distillation attacks and API abuse in LLM API logs."""

import os

__version__ = "0.1.0"

# polars allocates through jemalloc and tells it to hand freed pages back to the
# kernel after half a second. The pipeline frees and allocates buffers of the same
# sizes at every tick, so each tick took page faults for them again: on a full-scale
# replay a quarter of its CPU time went to the kernel. Freed pages are kept for 30 s
# instead (two days of a full-scale replay: 13.5 -> 10.5 s, peak RSS +25%). polars
# appends this variable to its own settings when it loads, and jemalloc takes the
# last value of each, so it is set here, before anything imports polars; a value the
# environment already holds is left as it is.
os.environ.setdefault(
    "_RJEM_MALLOC_CONF", "background_thread:true,dirty_decay_ms:30000,muzzy_decay_ms:30000"
)
