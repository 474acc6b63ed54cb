"""A ``PipelineRunner`` stepped in a thread of its own until stopped: the embedded
pipeline's process runs one (``api.pipeline_process``)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from detector.pipeline.runner import PipelineRunner, RunStats

log = logging.getLogger("detector.pipeline")


@dataclass
class BackgroundWorker:
    """Runs a ``PipelineRunner`` in a daemon thread until stopped."""

    runner: PipelineRunner
    interval: float = 1.0
    stop_: threading.Event = field(default_factory=threading.Event)
    thread_: threading.Thread | None = None

    def start(self) -> None:
        self.thread_ = threading.Thread(target=self._loop, name="detector-pipeline", daemon=True)
        self.thread_.start()

    def _loop(self) -> None:
        while not self.stop_.is_set():
            try:
                stats = self.runner.step()
            except Exception:  # a bad cycle must not kill the service; log and retry
                log.exception("pipeline step failed")
                stats = RunStats()
            if stats.segments == 0:
                self.stop_.wait(self.interval)

    def stop(self) -> None:
        self.stop_.set()
        if self.thread_ is not None:
            self.thread_.join(timeout=60)
        try:
            self.runner.release()
        except Exception:
            log.warning("could not release the pipeline lease", exc_info=True)
        if self.thread_ is None or not self.thread_.is_alive():
            # A step still under way holds the runner's lock: its threads go with
            # the process rather than keep it waiting.
            self.runner.close()
