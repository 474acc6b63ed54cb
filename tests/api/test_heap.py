"""The service keeps batch-sized buffers for reuse instead of faulting them in anew."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# Ingest on four worker threads, as the API runs it: minor page faults per record,
# before and after ``heap.settle``, in a process of its own (mallopt is global).
_PROGRAM = textwrap.dedent(
    """
    import resource, sys
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    import orjson

    from detector.api import heap
    from detector.config import Settings
    from detector.ingest.service import Ingestor
    from detector.store.db import make_engine
    from detector.store.migrate import upgrade

    data = Path(sys.argv[1])
    url = f"sqlite:///{data}/detector.db"
    upgrade(url)
    ingestor = Ingestor(make_engine(url), Settings(data_dir=data, database_url=url))
    counter = iter(range(10**9))

    def batch(_):
        rows = []
        for _ in range(5000):
            i = next(counter)
            rows.append(orjson.dumps({
                "event_id": f"e{i}", "ts_start": 1767571200.0 + i, "account_id": f"a{i % 97}",
                "request_model": "m", "user_agent": "sdk/1.0", "client_ip": "203.0.113.7",
                "tool_names": ["bash", "edit"], "input_tokens": i % 5000,
            }))
        return b"\\n".join(rows)

    def faults_per_record(pool):
        bodies = [batch(n) for n in range(16)]
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        list(pool.map(lambda body: ingestor.records(body, "ndjson"), bodies))
        return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 80_000

    with ThreadPoolExecutor(4) as pool:
        faults_per_record(pool)  # warm up: imports, arenas, SQLite's cache
        untuned = faults_per_record(pool)
        heap.settle()
        faults_per_record(pool)
        print(untuned, faults_per_record(pool))
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_settled_heap_spares_ingest_most_page_faults(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROGRAM, str(tmp_path)], capture_output=True, text=True, check=True
    ).stdout
    untuned, settled = map(float, out.split())
    assert settled < untuned / 2, (untuned, settled)
