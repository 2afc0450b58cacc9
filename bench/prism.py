"""Stoplight Prism (a stateless mock server for OpenAPI documents), the baseline of ``bench/server_load.py``.

Found on ``PATH`` (``prism``), in ``bench/.prism/`` (a git-ignored folder), or installed there with
``npm install @stoplight/prism-cli`` when npm is available.  ``prism_command()`` returns None, with the reason
printed, when none of that works: the benchmark then runs without the baseline.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

FOLDER = Path(__file__).resolve().with_name(".prism")
PACKAGE = "@stoplight/prism-cli"


def prism_command(*, install: bool = True) -> list[str] | None:
    """The command that runs Prism, installing it into ``bench/.prism`` first if needed and allowed."""
    local = FOLDER / "node_modules" / ".bin" / "prism"
    if local.exists():
        return [str(local)]
    found = shutil.which("prism")
    if found:
        return [found]
    npm = shutil.which("npm")
    if not install or npm is None:
        print(f"Prism baseline skipped: no `prism` on PATH or in {FOLDER}, and "
              f"{'npm is not installed' if npm is None else 'installing was not allowed'} "
              f"(install it with: npm install --prefix {FOLDER} {PACKAGE})")  # fmt: skip
        return None
    FOLDER.mkdir(exist_ok=True)
    (FOLDER / ".gitignore").write_text("*\n", encoding="utf-8")  # nothing in here is committed
    if not (FOLDER / "package.json").exists():
        (FOLDER / "package.json").write_text('{"private": true}\n', encoding="utf-8")
    print(f"installing {PACKAGE} into {FOLDER} (once) ...")
    try:
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", PACKAGE],
            cwd=FOLDER, check=True, capture_output=True, timeout=600,
        )  # fmt: skip
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        output = getattr(exc, "stderr", b"") or b""
        print(f"Prism baseline skipped: npm install failed: {output.decode(errors='replace')[-300:]}")
        return None
    return [str(local)] if local.exists() else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def running_prism(
    command: list[str], spec: Path, *, log_level: str = "info", startup: float = 60.0
) -> Iterator[tuple[str, int]]:
    """Prism mocking ``spec`` on a free 127.0.0.1 port (``info``: its default logging, a few lines per
    request, here to /dev/null; ``warn``: quiet, its fastest setting); yields (base URL, pid of its process
    group leader); stopped on exit."""
    port = _free_port()
    proc = subprocess.Popen(
        [*command, "mock", "-h", "127.0.0.1", "-p", str(port), "--verboseLevel", log_level, str(spec)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"prism exited with {proc.returncode} before listening")
            try:
                urllib.request.urlopen(url + "/", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break  # it answers (a 404 for /): listening
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("prism did not listen in time") from None
                time.sleep(0.2)
        yield url, proc.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
