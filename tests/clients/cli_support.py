"""Running `orders-contract` in a subprocess for the CLI tests: one-shot commands and long-running servers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from orders_contract.cli import main; main()"]


def env() -> dict[str, str]:
    paths = [str(REPO), str(REPO / "generated"), os.environ.get("PYTHONPATH", "")]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, env=env(), cwd=REPO)


@contextlib.contextmanager
def started(
    args: list[str], folder: Path, ready: str, *, log_name: str = "server.log", stop: int = signal.SIGTERM
) -> Iterator[subprocess.Popen[str]]:
    """Start `orders-contract ARGS` in `folder`, wait (30 s at most) until GET `ready` answers, yield the
    process; on the way out send `stop` and wait for it (killed after 20 s)."""
    log_path = folder / log_name
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [*CLI, *args], stdout=log, stderr=subprocess.STDOUT, text=True, env=env(), cwd=folder
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, log_path.read_text()
                try:
                    httpx.get(ready, timeout=1)
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline, f"{args[0]} did not start: {log_path.read_text()}"
                    time.sleep(0.05)
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(stop)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
