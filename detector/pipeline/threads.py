"""The pipeline's threads, and who owns what.

A ``PipelineRunner`` creates one ``PipelineThreads`` when it first steps, passes it to
every ``Engine`` it restores or builds, and shuts it down in ``close``; an engine
built without one (``evaluate``, tests) makes its own and shuts it down when it is
collected. The objects each thread owns:

- the caller's thread (the runner's step, under its lock, or ``evaluate``'s loop)
  owns the ``Engine`` and calls all its public methods; it alone changes the event
  clock and windows (``EventClock``: open windows, watermark, late records, pending
  aggregates) and the account and key state (``AccountState``: running accounts,
  key counts, daily counts, sign-up metadata), and it alone snapshots them;
- ``reader`` reads and parses the next chunk of stored segments while the caller
  works on the current one (``PipelineRunner._load``): it touches the store and the
  runner's read buffer, never the engine;
- ``aggregator`` computes one closed window's aggregate from that window's records
  alone (``features.windows.aggregate_window``), and touches no state;
- ``analyser`` runs one tick's analysis at a time (``CaseTracker.analyse``) from a
  ``TickView`` of the state as it was at that tick, and alone changes the case
  tracker (cluster registry, scorer, cases, campaigns, unsettled updates); the
  caller's thread reads or snapshots the tracker only once ``Engine.settle`` (or
  ``collect``) has waited for every tick it submitted.

polars and zstd release the GIL, so the three overlap with the caller's work; each
is a single thread, so the work it gets runs in submission order and no result
depends on the overlap.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


def _pool(name: str) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)


@dataclass(frozen=True)
class PipelineThreads:
    """The reading, aggregating and analysing threads (one worker each)."""

    reader: ThreadPoolExecutor = field(default_factory=lambda: _pool("pipeline-read"))
    aggregator: ThreadPoolExecutor = field(default_factory=lambda: _pool("window-aggregate"))
    analyser: ThreadPoolExecutor = field(default_factory=lambda: _pool("tick-analysis"))

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop the threads once their queued work is done (or dropped, without
        ``wait``): work submitted after this raises ``RuntimeError``."""
        for pool in (self.reader, self.aggregator, self.analyser):
            pool.shutdown(wait=wait, cancel_futures=not wait)
