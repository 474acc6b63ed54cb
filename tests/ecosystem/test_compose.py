"""docker-compose.yml, run without Docker: its commands with its settings, in its order.

No container engine runs here, so the file is parsed and what it would run is run
directly: ``migrate``'s command on a fresh database, then ``api``'s command and its
health check, then ``worker``'s command, which must pick up records posted to the API.
Only the database URL, the data directory and the listening port are swapped for
local ones; every other setting is the file's own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml
from sqlalchemy.engine import make_url

from tests.support.server import free_port, wait_ready

COMPOSE = Path(__file__).parents[2] / "docker-compose.yml"
DETECTOR = [sys.executable, "-m", "detector.cli"]
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}")


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}``."""

    def one(match: re.Match[str]) -> str:
        value = env.get(match["name"])
        if value:
            return value
        if match["op"] == ":?":
            raise KeyError(f"{match['name']}: {match['arg']}")
        return match["arg"] or ""

    return _VARIABLE.sub(one, text)


def service(name: str) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"][name]
    return spec


def command_line(command: list[str]) -> list[str]:
    assert command[0] == "detector"
    return [*DETECTOR, *command[1:]]


def environment(name: str, overrides: Mapping[str, str]) -> dict[str, str]:
    given = {
        "DETECTOR_API_TOKENS": "compose-token-0123456789",
        "DETECTOR_FINGERPRINT_KEY": "k" * 32,
    }
    env = {
        key: interpolate(str(value), given) for key, value in service(name)["environment"].items()
    }
    return {**env, **overrides}


def test_compose_file_wiring() -> None:
    api, worker, migrate = service("api"), service("worker"), service("migrate")
    assert migrate["command"] == ["detector", "db", "upgrade"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    # Migrations run before the API (and the worker) start.
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "/readyz" in " ".join(api["healthcheck"]["test"])
    assert "pg_isready" in service("postgres")["healthcheck"]["test"]
    env = environment("api", {})
    assert make_url(env["DETECTOR_DATABASE_URL"]).drivername == "postgresql+psycopg"
    assert env["DETECTOR_PIPELINE_EMBEDDED"] == "false"  # the worker service runs it
    with pytest.raises(KeyError, match="DETECTOR_API_TOKENS"):
        interpolate(str(api["environment"]["DETECTOR_API_TOKENS"]), {})


@contextmanager
def running(
    args: list[str], env: Mapping[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as sink:
        proc = subprocess.Popen(args, env={**os.environ, **env}, stdout=sink, stderr=sink)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.db
@pytest.mark.slow
def test_compose_commands_run_against_local_database(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    local = {"DETECTOR_DATABASE_URL": database_url, "DETECTOR_DATA_DIR": str(tmp_path)}

    migrate = service("migrate")
    subprocess.run(
        command_line(migrate["command"]),
        env={**os.environ, **environment("migrate", local)},
        check=True,
        timeout=120,
    )

    api = service("api")
    api_args = command_line(api["command"])
    api_args[api_args.index("--host") + 1] = "127.0.0.1"
    api_args[api_args.index("--port") + 1] = str(port)
    api_env = environment("api", local)
    token = api_env["DETECTOR_API_TOKENS"].split(",")[0]
    with running(api_args, api_env, tmp_path / "api.log"):
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, timeout=90)
        check = [part.replace("8000", str(port)) for part in api["healthcheck"]["test"][1:]]
        assert check[0] == "python"
        subprocess.run([sys.executable, *check[1:]], check=True, timeout=30)

        auth = {"Authorization": f"Bearer {token}"}
        records = [
            {
                "event_id": f"c-{i}",
                "ts_start": 1_771_804_800 + 30 * i,
                "account_id": f"acct-{i % 4}",
                "request_model": "m",
            }
            for i in range(40)
        ]
        posted = httpx.post(
            f"{url}/v1/records",
            json=records,
            headers={**auth, "X-Request-ID": "req-abc-123"},
            timeout=30,
        )
        assert posted.json()["accepted"] == 40
        assert posted.headers["x-request-id"] == "req-abc-123"
        made = httpx.get(f"{url}/healthz", headers={"X-Request-ID": "bad id; DROP"})
        generated = made.headers["x-request-id"]
        assert len(generated) == 32 and int(generated, 16) >= 0
        wrong = httpx.post(f"{url}/v1/records", json=[], headers={"Authorization": "Bearer no"})
        assert wrong.status_code == 401

        worker = service("worker")
        with running(
            command_line(worker["command"]), environment("worker", local), tmp_path / "worker.log"
        ) as proc:
            deadline = time.monotonic() + 90
            state: dict[str, Any] = {}
            while time.monotonic() < deadline and proc.poll() is None:
                state = httpx.get(f"{url}/v1/pipeline", headers=auth, timeout=10).json()
                if state["processed"] == 40:
                    break
                time.sleep(0.5)
            assert state.get("processed") == 40, (state, (tmp_path / "worker.log").read_text())
            assert state["worker"]
    _check_logs((tmp_path / "api.log").read_text(), token, generated)


def _check_logs(text: str, token: str, generated: str) -> None:
    """JSON lines with request ids (DETECTOR_LOG_FORMAT=json, as the file sets it)."""
    assert token not in text
    lines = [orjson.loads(line) for line in text.splitlines() if line.strip()]
    assert all({"ts", "level", "logger", "message"} <= set(line) for line in lines)
    access = [line for line in lines if line["logger"] == "detector.access"]
    tagged = [line for line in access if line.get("request_id") == "req-abc-123"]
    assert len(tagged) == 1
    assert (tagged[0]["path"], tagged[0]["status"]) == ("/v1/records", 200)
    assert tagged[0]["duration_ms"] >= 0
    assert any(line.get("request_id") == generated for line in access)
    assert any(line["status"] == 401 for line in access)
