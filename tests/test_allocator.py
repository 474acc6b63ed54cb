"""polars' allocator keeps freed pages for a while, unless the environment says otherwise.

polars puts its own short decay first and appends this variable's value; jemalloc
takes the last value of each option.
"""

from __future__ import annotations

import os
import subprocess
import sys

SHOW = "import detector, polars, os; print(os.environ['_RJEM_MALLOC_CONF'])"


def conf_seen(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    done = subprocess.run(
        [sys.executable, "-c", SHOW], env={**base, **env}, capture_output=True, check=True
    )
    return done.stdout.decode().strip()


def test_detector_sets_the_decay_before_polars_loads() -> None:
    assert conf_seen().endswith("dirty_decay_ms:30000,muzzy_decay_ms:30000")


def test_a_setting_from_the_environment_wins() -> None:
    seen = conf_seen(_RJEM_MALLOC_CONF="dirty_decay_ms:1000")
    assert seen.endswith(",dirty_decay_ms:1000")
    assert "30000" not in seen
