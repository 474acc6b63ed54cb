"""Per-account features: pure polars functions over records, no I/O."""
