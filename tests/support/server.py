"""Serving the real app over real HTTP on loopback, in a thread or a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn

from detector.api.app import create_app
from detector.config import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    url: str
    token: str

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=60,
            **kwargs,  # type: ignore[arg-type]
        )


# A server starting on a loaded 2-core machine (migrations, its pipeline and ingest
# processes) can take tens of seconds; a polled wait costs nothing when it is quick.
READY_TIMEOUT = 180.0


def wait_ready(
    url: str,
    timeout: float = READY_TIMEOUT,
    path: str = "/readyz",
    proc: subprocess.Popen[bytes] | None = None,
) -> None:
    """Poll ``path`` until it answers 200 (``/healthz`` for a server whose store is down).

    With ``proc``, a server process that exits while starting fails at once, with its
    exit code, rather than at the deadline.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {proc.returncode} while starting")
        try:
            if httpx.get(f"{url}{path}", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} not ready after {timeout}s")


@contextmanager
def serve_in_thread(settings: Settings, *, ready_path: str = "/readyz") -> Iterator[LiveServer]:
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, path=ready_path)
        yield LiveServer(url=url, token=next(iter(settings.token_values()), ""))
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve_in_process(
    env: dict[str, str], *args: str
) -> Iterator[tuple[LiveServer, subprocess.Popen[bytes]]]:
    """``detector serve`` as a child process, for tests that kill it."""
    port = free_port()
    full_env = {**os.environ, **env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "detector.cli", "serve", "--port", str(port), *args],
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc=proc)
        token = full_env["DETECTOR_API_TOKENS"].split(",")[0]
        yield LiveServer(url=url, token=token), proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if proc.stderr:
            proc.stderr.close()
