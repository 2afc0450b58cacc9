"""Small raw-socket HTTP servers that misbehave, for the runner's preflight / fail-fast / snapshot tests."""

from __future__ import annotations

import socket
import threading

__all__ = ["TinyServer"]


class TinyServer:
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

    def __enter__(self) -> TinyServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()
