"""SIGINT / SIGTERM at random moments of a real `orders-contract run` process: it stops within about a
second, deletes what it created, lists the rules that finished, says "interrupted" and exits 130 (never 0)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from typing import Any

import httpx

from contracts.contract import load_contract, pointer_get
from contracts.server import running_server_in_thread

MOMENTS = 7  # bounded: each is a fresh process (about 2 s of start-up on a busy machine)
SCRIPT = "from orders_contract.cli import main; main()"


def _interactive_signals() -> None:
    """In the child: SIGINT/SIGTERM as in an interactive shell. A CI job started in the background
    (`cmd &` in a script) ignores SIGINT, which the run rightly keeps ignoring; the test wants a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _stored(server: Any) -> list[Any]:
    contract = load_contract(None)
    assert contract.listing is not None
    reply = httpx.get(
        server.api_url + contract.operation("list").url_path(),
        params={"page_size": "100"},
        auth=(server.username, server.password),
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    found = pointer_get(reply.json(), contract.listing.results, [])
    assert isinstance(found, list)
    return found


def _start(server: Any) -> subprocess.Popen[str]:
    args = ["run", "--base-url", server.api_url, "--owned", "7", "--owned", "739283", "--profile", "ci"]
    args += ["--seed", "1"]  # the same examples in every run: about the same length
    env = {**os.environ, "ORDERS_CONTRACT_USERNAME": server.username}
    env["ORDERS_CONTRACT_PASSWORD"] = server.password
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        preexec_fn=_interactive_signals,
    )


def _uninterrupted_seconds(server: Any) -> float:
    """How long a whole run takes here (it passes): the moments are spread over it, whatever the machine."""
    started = time.monotonic()
    process = _start(server)
    try:
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
    assert process.returncode == 0, output
    return time.monotonic() - started


def test_a_signal_at_any_moment_stops_cleans_up_and_exits_130() -> None:
    outcomes = []
    ended_first = 0
    with running_server_in_thread() as server:
        last = max(1.0, 0.7 * _uninterrupted_seconds(server))  # still running then, even on a fast machine
        moments = random.Random(10).sample([0.6 + (last - 0.6) * i / 13 for i in range(14)], MOMENTS)
        for n, delay in enumerate(moments):
            process = _start(server)
            try:
                time.sleep(delay)
                if process.poll() is not None:  # the run ended before this moment: nothing to interrupt
                    process.communicate(timeout=5)
                    ended_first += 1
                    continue
                sent = time.monotonic()
                process.send_signal(signal.SIGTERM if n == 0 else signal.SIGINT)
                output, _ = process.communicate(timeout=30)
                stopped_in = time.monotonic() - sent
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(5)
            outcomes.append((delay, process.returncode, stopped_in, output))
        left = _stored(server)
    assert ended_first <= 2, f"{ended_first} of {MOMENTS} runs ended before their signal: too few moments"
    for delay, code, stopped_in, output in outcomes:
        lines = [line for line in output.splitlines() if line.strip()]
        assert code == 130, f"signal after {delay:.2f}s: exit {code}\n{output}"
        assert lines and lines[-1].startswith("interrupted"), output
        assert "Traceback" not in output, output
        assert stopped_in < 5, (
            f"signal after {delay:.2f}s: {stopped_in:.1f}s to stop"
        )  # 1 s + bounded cleanup
    assert left == [], f"{len(left)} orders left behind: {[o.get('order_id') for o in left][:5]}"
