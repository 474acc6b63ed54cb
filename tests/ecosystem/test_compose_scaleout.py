"""docker-compose.yml's ``scaleout`` profile, run without Docker: its commands, its settings.

The ingest replicas' command, with the profile's settings, exports each committed
segment to the directory stage 1 reads; the Spark master's command starts a master;
stage 1's and stage 2's commands are what their parsers accept. Stage 1 itself on
Spark, and stage 2 on what it writes, are tested against the embedded engine in
tests/scaleout/test_parity.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyspark
import pytest
import yaml

from detector.scaleout import stage1, stage2
from detector.scaleout.spark import java_home
from detector.store.segment_export import SUFFIX
from tests.ecosystem.test_compose import (
    COMPOSE,
    command_line,
    environment,
    running,
    service,
)
from tests.support.server import free_port, wait_ready

SCALEOUT = ("ingest", "spark-master", "spark-worker", "stage1", "stage2")


def test_scaleout_profile_wiring() -> None:
    spec = yaml.safe_load(COMPOSE.read_text())
    for name in SCALEOUT:
        found = spec["services"][name]
        assert found["profiles"] == ["scaleout"], name
        assert found["build"]["target"] == "scaleout", name
        env = environment(name, {})
        assert env["DETECTOR_SEGMENT_EXPORT_DIR"] == "/segments"
        # No service of the profile runs the embedded pipeline: stage 2 is the pipeline.
        assert env["DETECTOR_PIPELINE_EMBEDDED"] == "false"
        # Driver and executors see the files and the checkpoint at the same paths.
        assert {"segments:/segments", "spark-checkpoint:/checkpoint"} <= set(found["volumes"])
    # The single-node services stay outside the profile, as they were.
    assert "profiles" not in service("api") and "profiles" not in service("worker")

    job = service("stage1")["command"]
    assert job[:2] == ["detector", "spark-job"]
    args = stage1.parser().parse_args(job[2:])
    assert args.source == Path("/segments")
    assert args.master == "spark://spark-master:7077"
    assert str(args.checkpoint).startswith("/checkpoint/")
    assert service("stage2")["command"][:2] == ["detector", "stage2"]
    stage2.parser().parse_args(service("stage2")["command"][2:])
    worker = service("spark-worker")["command"]
    assert worker[-1] == f"spark://spark-master:{service('spark-master')['command'][-1]}"


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_spark_master_command_starts_a_master(tmp_path: Path) -> None:
    """The master's command, from the interpreter's own pyspark, with Java found as
    stage 1 finds it (``java_home``)."""
    command = service("spark-master")["command"]
    port = free_port()
    args = [str(Path(sys.executable).parent / command[0]), *command[1:]]
    args[args.index("--host") + 1] = "127.0.0.1"
    args[args.index("--port") + 1] = str(port)
    env = {
        "JAVA_HOME": java_home(),
        # Found from the interpreter's pyspark, as in the image, where it is `python3`.
        "SPARK_HOME": str(Path(pyspark.__file__).parent),
        "SPARK_MASTER_WEBUI_PORT": str(free_port()),
    }
    with running(args, env, tmp_path / "master.log") as proc:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and not _listening(port):
            time.sleep(0.5)
        assert _listening(port), (tmp_path / "master.log").read_text()[-2000:]


@pytest.mark.db
def test_ingest_replica_command_exports_segments(database_url: str, tmp_path: Path) -> None:
    exported = tmp_path / "segments"
    local = {
        "DETECTOR_DATABASE_URL": database_url,
        "DETECTOR_DATA_DIR": str(tmp_path),
        "DETECTOR_SEGMENT_EXPORT_DIR": str(exported),
    }
    subprocess.run(
        command_line(service("migrate")["command"]),
        env={**os.environ, **environment("migrate", local)},
        check=True,
        timeout=120,
    )
    port = free_port()
    args = command_line(service("ingest")["command"])
    args[args.index("--host") + 1] = "127.0.0.1"
    args[args.index("--port") + 1] = str(port)
    env = environment("ingest", local)
    token = env["DETECTOR_API_TOKENS"].split(",")[0]
    with running(args, env, tmp_path / "ingest.log"):
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, timeout=90)
        records = [
            {
                "event_id": f"s-{i}",
                "ts_start": 1_771_804_800 + 30 * i,
                "account_id": f"acct-{i % 4}",
                "request_model": "m",
            }
            for i in range(40)
        ]
        auth = {"Authorization": f"Bearer {token}"}
        for half in (records[:20], records[20:], records[:20]):
            httpx.post(f"{url}/v1/records", json=half, headers=auth, timeout=30).raise_for_status()
    files = sorted(exported.iterdir())
    # Two batches with new records, two files; the repeated batch stored nothing.
    assert [f.name.endswith(SUFFIX) for f in files] == [True, True]
