"""Benchmarks of the detector, each runnable with ``python -m benchmarks.<name>``."""

# Imported first, so its allocator settings hold for polars in every benchmark too.
import detector  # noqa: F401
