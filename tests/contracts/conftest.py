"""Fixtures for the contract-suite tests: the ci Hypothesis profile, the spec, small broken servers."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator

import pytest

os.environ.setdefault("ORDERS_CONTRACT_PROFILE", "ci")

from contracts.strategies import SpecDocument, load_spec  # noqa: E402


@pytest.fixture(scope="session")
def spec() -> SpecDocument:
    return load_spec()


class _TinyServer:
    """A raw-socket HTTP server on 127.0.0.1 that misbehaves: ``hang``, answer ``garbage`` or ``trickle``;
    ``answered`` requests first get a JSON ``[]`` (enough to pass preflight) before the misbehaviour."""

    def __init__(self, mode: str, answered: int = 0) -> None:
        self.mode = mode
        self.answered = answered
        self.requests = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/api/v3"
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(2)
            try:
                conn.recv(65536)
                with self.lock:
                    self.requests += 1
                    fine = self.requests <= self.answered
                if fine:
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                        b"Content-Length: 2\r\n\r\n[]"
                    )
                    return
                if self.mode == "hang":
                    self.stop.wait(30)  # bounded: ends with the fixture
                    return
                if self.mode == "trickle":  # headers at once, then one byte every 0.1 s for up to 10 s
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
                    conn.sendall(b"Content-Length: 200\r\n\r\n")
                    for _ in range(100):
                        if self.stop.wait(0.1):
                            return
                        conn.sendall(b" ")
                    return
                body = b"<html>definitely not the orders API \x00\xff</html>"
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
            except OSError:
                return

    def __enter__(self) -> _TinyServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def hanging_server() -> Iterator[str]:
    with _TinyServer("hang") as server:
        yield server.url


@pytest.fixture
def hangs_after_preflight() -> Iterator[str]:
    """Answers the two preflight requests, then never answers again."""
    with _TinyServer("hang", answered=2) as server:
        yield server.url


@pytest.fixture
def garbage_after_preflight() -> Iterator[str]:
    """Answers the two preflight requests with JSON, then HTML to everything."""
    with _TinyServer("garbage", answered=2) as server:
        yield server.url


@pytest.fixture
def garbage_server() -> Iterator[str]:
    with _TinyServer("garbage") as server:
        yield server.url


@pytest.fixture
def trickling_server() -> Iterator[str]:
    with _TinyServer("trickle") as server:
        yield server.url


@pytest.fixture(scope="module")
def reference() -> Iterator[object]:
    from contracts.server import running_server_in_thread

    with running_server_in_thread() as server:
        yield server


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v3"
