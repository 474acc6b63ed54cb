"""A tick's analysis runs on a thread of its own while the engine merges the next
windows: however late the analysis runs, the updates come out in tick order and the
same, and an engine with a tick still being analysed cannot be checkpointed."""

from __future__ import annotations

import pickle
import threading

import pytest

from detector.pipeline.cases import CaseUpdate
from detector.pipeline.engine import Engine
from tests.pipeline.test_event_time import frames, run, summary
from tests.pipeline.traffic import Traffic


def test_a_slow_analysis_changes_no_update_and_blocks_checkpoints(traffic: Traffic) -> None:
    records, meta = frames(traffic)
    _, expected = run(records, meta, batches=1)
    assert expected
    engine = Engine()
    engine.set_meta(meta)
    engine.add(records)
    # The analysing thread is held busy, so every tick waits for it.
    release = threading.Event()
    blocker = engine.threads.analyser.submit(release.wait, 30)
    try:
        steps = engine.closing(flush=True)
        early: list[CaseUpdate] = []
        while not engine.inflight_:
            early += next(steps)
        assert early == [], "no update before its tick was analysed"
        with pytest.raises(RuntimeError, match="settle"):
            pickle.dumps(engine)
    finally:
        release.set()
    assert blocker.result() is True
    updates = early + [u for step in steps for u in step] + engine.settle()
    assert [(u.case_id, u.event_time) for u in updates] == [
        (u.case_id, u.event_time) for u in expected
    ]
    assert summary(updates) == summary(expected)
    restored = pickle.loads(pickle.dumps(engine))  # noqa: S301 (our own bytes)
    assert restored.inflight_ == [] and restored.cases_.keys() == engine.cases_.keys()
