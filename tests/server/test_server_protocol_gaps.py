"""HTTP at the connection level, with real clients over real sockets against the server under uvicorn:

- an answer sent before the body has arrived (413) reaches clients that write their whole body first (urllib,
  http.client), and what they keep sending afterwards is discarded only up to a bound;
- HTTP the parser refuses gets the served contract's JSON error shape, not uvicorn's text/plain line;
- request headers that never complete (or never stop) are answered 408 / 431 and closed.

Every socket has a timeout and every loop a count and a deadline.
"""

from __future__ import annotations

import dataclasses
import http.client
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.contract import Contract, load_contract, pointer_get
from contracts.server import RunningServer, ServerSettings, create_app, running_server, uvicorn_options
from contracts.server._protocol import DEFAULT_HEADER_TIMEOUT, ProtocolPolicy, http_protocol, protocol_policy

_REPO = Path(__file__).resolve().parents[2]
_SPECS = sorted(str(p) for p in (_REPO / "spec").glob("*.yaml"))
_LIMIT = 256 * 1024
_HEADER_TIMEOUT = 1.0
_LINGER_IDLE = 0.5


# ---------------------------------------------------------------- servers


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    """The launcher's own server (subprocess, real uvicorn, the default protocol options)."""
    with running_server(max_body_bytes=_LIMIT, body_timeout=2.0) as started:
        yield started


@dataclasses.dataclass(frozen=True)
class Served:
    host: str
    port: int
    contract: Contract
    policy: ProtocolPolicy
    credentials: str = ""  # header lines that authenticate the first account

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


@pytest.fixture(scope="module", params=_SPECS, ids=[Path(p).stem for p in _SPECS])
def quick(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Each spec's server under uvicorn in a thread, with short header and linger timeouts."""
    spec: str = request.param
    settings = ServerSettings(
        db_path=str(tmp_path_factory.mktemp("gaps") / "db.sqlite3"),
        spec_path=spec,
        max_body_bytes=_LIMIT,
        body_timeout=1.0,
    )
    policy = dataclasses.replace(
        protocol_policy(settings, header_timeout=_HEADER_TIMEOUT), linger_idle=_LINGER_IDLE, linger_time=3.0
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", http=http_protocol(policy))
    userver = uvicorn.Server(config)
    thread = threading.Thread(target=userver.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not userver.started and time.monotonic() < deadline and thread.is_alive():
            time.sleep(0.02)
        assert userver.started, "the server did not start"
        login = RunningServer(f"http://127.0.0.1:{port}", settings, settings.db_path).headers
        credentials = "".join(f"{name}: {value}\r\n" for name, value in login.items())
        yield Served("127.0.0.1", port, load_contract(spec), policy, credentials)
    finally:
        userver.should_exit = True
        thread.join(15)
        sock.close()


# ---------------------------------------------------------------- helpers


def _address(base_url: str) -> tuple[str, int]:
    host, port = base_url.removeprefix("http://").split(":")
    return host, int(port)


def _read_until_closed(sock: socket.socket, deadline: float, limit: int = 1 << 20) -> tuple[bytes, str]:
    """Everything the server sends until it closes: (bytes, "eof" | "reset" | "timeout")."""
    received = b""
    for _ in range(10_000):
        if time.monotonic() > deadline or len(received) > limit:
            return received, "timeout"
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return received, "timeout"
        except ConnectionResetError:
            return received, "reset"
        if not chunk:
            return received, "eof"
        received += chunk
    return received, "timeout"


def _read_one(sock: socket.socket, deadline: float) -> bytes:
    """One answer with a Content-Length body, the connection left open."""
    received = b""
    for _ in range(1000):
        head, sep, body = received.partition(b"\r\n\r\n")
        if sep and len(body) >= int(_parse(received)[1].get("content-length", "0")):
            return received
        assert time.monotonic() < deadline, received
        chunk = sock.recv(65536)
        assert chunk, received
        received += chunk
    raise AssertionError(received)


def _parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def _exchange(served: Served, raw: bytes, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes, str]:
    with socket.create_connection((served.host, served.port), timeout=timeout) as sock:
        sock.sendall(raw)
        received, ending = _read_until_closed(sock, time.monotonic() + timeout)
    assert received, f"no answer ({ending})"
    return (*_parse(received), ending)


def _contract_errors(contract: Contract, status: int, headers: dict[str, str], body: bytes) -> list[str]:
    """The details of an error answer, checked against the contract's envelope."""
    assert headers["content-type"].startswith("application/json"), headers
    document = orjson.loads(body)
    errors = contract.errors.errors_of(document)
    assert errors, document
    rules = contract.errors
    details = []
    for error in errors:
        detail = pointer_get(error, rules.detail, None)
        assert isinstance(detail, str) and detail, error
        if rules.status:
            assert pointer_get(error, rules.status, None) == str(status), error
        if rules.code:
            assert isinstance(pointer_get(error, rules.code, None), str), error
        details.append(detail)
    return details


def _batch_url(server: RunningServer) -> str:
    return server.base_url + server.contract.base_path + server.contract.batch_write.path


# ---------------------------------------------------------------- 413 for send-first clients


@pytest.mark.parametrize("factor", [1.5, 3.5])
def test_urllib_sees_the_413_for_a_body_over_the_limit(server: RunningServer, factor: float) -> None:
    body = b"[" + b" " * int(_LIMIT * factor) + b"]"
    for _ in range(3):  # it used to fail every time; repeat to catch a race
        request = urllib.request.Request(
            _batch_url(server), data=body, method="POST",
            headers={"content-type": "application/json", **server.headers},
        )  # fmt: skip
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=20)
        answer = caught.value
        assert answer.code == 413
        details = _contract_errors(server.contract, 413, dict(answer.headers.items()), answer.read())
        assert str(_LIMIT) in details[0]
        assert answer.headers["connection"] == "close"
    assert httpx.get(server.base_url + "/health", timeout=10).status_code == 200


def test_http_client_keep_alive_sees_the_413_then_reconnects(server: RunningServer) -> None:
    """http.client keeps the connection alive and sends the body before reading: the 413 arrives, the answer
    says the connection closes, and the next request on the same HTTPConnection object works."""
    host, port = _address(server.base_url)
    path = server.contract.base_path + server.contract.batch_write.path
    connection = http.client.HTTPConnection(host, port, timeout=20)
    try:
        headers = {"content-type": "application/json", **server.headers}
        connection.request("POST", path, body=b"[" + b"0," * _LIMIT + b"0]", headers=headers)
        answer = connection.getresponse()
        assert answer.status == 413
        _contract_errors(server.contract, 413, {k.lower(): v for k, v in answer.getheaders()}, answer.read())
        assert answer.getheader("connection") == "close"
        connection.request("GET", "/health")
        assert connection.getresponse().status == 200
    finally:
        connection.close()


def test_a_small_answer_before_the_body_keeps_working_for_keep_alive_clients(server: RunningServer) -> None:
    """Wrong credentials with a body over the flow-control window: 401 for every request, no reset."""
    body = b"[" + b" " * (200 * 1024) + b"]"
    with httpx.Client(timeout=20) as c:
        for _ in range(3):
            answer = c.post(_batch_url(server), content=body, headers={"content-type": "application/json"})
            assert answer.status_code == 401
        assert c.get(server.base_url + "/health").status_code == 200


def test_what_follows_an_early_answer_is_discarded_only_up_to_a_bound(quick: Served) -> None:
    """A client that declares 1 GB and keeps sending after the 413 is cut off near ``discard_bytes``."""
    path = quick.contract.base_path + quick.contract.batch_write.path
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {1 << 30}\r\n\r\n"
    ).encode()
    chunk = b" " * 65536
    sent = 0
    with socket.create_connection((quick.host, quick.port), timeout=10) as sock:
        sock.sendall(head)
        deadline = time.monotonic() + 20
        cut = False
        for _ in range(100_000):
            if time.monotonic() > deadline:
                break
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                cut = True
                break
            sent += len(chunk)
    assert cut, f"the server accepted {sent} bytes after its answer without closing"
    # the bound, plus what the two kernels' socket buffers held when the server closed
    assert sent < quick.policy.discard_bytes + 16 * 1024 * 1024, sent


def test_lingering_ends_when_the_client_goes_quiet(quick: Served) -> None:
    """After the early answer the server waits for the rest of the body only while it keeps coming."""
    path = quick.contract.base_path + quick.contract.batch_write.path
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9999999\r\n"
    head += "\r\n"
    with socket.create_connection((quick.host, quick.port), timeout=10) as sock:
        sock.sendall(head.encode() + b" " * 100_000)
        started = time.monotonic()
        received, ending = _read_until_closed(sock, started + 10)
        waited = time.monotonic() - started
    status, headers, _ = _parse(received)
    assert status in (401, 413), received[:200]
    assert headers["connection"] == "close"
    assert ending == "eof", ending
    assert waited < quick.policy.linger_idle + 3, waited


def test_an_early_answer_to_a_small_body_keeps_the_connection(quick: Served) -> None:
    """No credentials, a 100-byte body sent after the answer: the parser reads past it, keep-alive holds."""
    path = quick.contract.base_path + quick.contract.batch_write.path
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    with socket.create_connection((quick.host, quick.port), timeout=10) as sock:
        sock.sendall(head.encode())
        status, headers, _ = _parse(_read_one(sock, time.monotonic() + 10))
        assert status == 401 and "connection" not in headers, headers
        sock.sendall(b" " * 100 + b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _parse(_read_one(sock, time.monotonic() + 10))[0] == 200


def test_the_rest_of_a_small_body_that_never_comes_is_bounded(quick: Served) -> None:
    path = quick.contract.base_path + quick.contract.batch_write.path
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    with socket.create_connection((quick.host, quick.port), timeout=10) as sock:
        sock.sendall(head.encode() + b"[")
        started = time.monotonic()
        assert _parse(_read_one(sock, started + 10))[0] == 401
        received, ending = _read_until_closed(sock, started + 10)
        waited = time.monotonic() - started
    assert (received, ending) == (b"", "eof")
    assert waited < _HEADER_TIMEOUT + 3, waited


# ---------------------------------------------------------------- malformed HTTP


_MALFORMED = {
    "unknown method": b"FETCH / HTTP/1.1\r\nHost: x\r\n\r\n",
    "two content-lengths": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "bad chunk size": b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n",
    "HTTP/9.9": b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    "header without colon": b"GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
    "space before colon": b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
    "byte 0xff in the path": b"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    "binary noise": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(64)),
    "content-length not a number": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n",
    "both chunked and content-length": (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    ),
}


@pytest.mark.parametrize("raw", list(_MALFORMED.values()), ids=list(_MALFORMED))
def test_malformed_http_gets_the_contracts_error_shape(quick: Served, raw: bytes) -> None:
    status, headers, body, ending = _exchange(quick, raw)
    assert status == 400, body
    assert headers["connection"] == "close"
    assert ending == "eof"
    details = _contract_errors(quick.contract, 400, headers, body)
    assert details[0].startswith("Malformed HTTP request: "), details


def test_a_bad_chunk_while_the_app_reads_the_body_gets_the_same_answer(quick: Served) -> None:
    """The parser fails in the middle of a body the app is waiting for: one 400 JSON answer, nothing else."""
    path = quick.contract.base_path + quick.contract.batch_write.path
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{quick.credentials}"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    with socket.create_connection((quick.host, quick.port), timeout=10) as sock:
        sock.sendall(head.encode() + b"2\r\n[ \r\n")
        time.sleep(0.2)  # the app is now waiting for the rest of the body
        sock.sendall(b"not-hex\r\n")
        received, ending = _read_until_closed(sock, time.monotonic() + 10)
    status, headers, body = _parse(received)
    assert (status, ending) == (400, "eof"), received[:300]
    assert "Malformed HTTP request" in _contract_errors(quick.contract, 400, headers, body)[0]
    assert received.count(b"HTTP/1.1 ") == 1, received


def test_the_launchers_server_answers_malformed_http_in_its_shape(server: RunningServer) -> None:
    served = Served(*_address(server.base_url), server.contract, protocol_policy(server.settings))
    status, headers, body, _ = _exchange(served, _MALFORMED["unknown method"])
    assert status == 400
    _contract_errors(server.contract, 400, headers, body)


# ---------------------------------------------------------------- stalled and endless headers


def test_headers_that_never_complete_get_408(quick: Served) -> None:
    started = time.monotonic()
    status, headers, body, ending = _exchange(quick, b"GET /health HTTP/1.1\r\nHost: x\r\n")
    waited = time.monotonic() - started
    assert (status, ending) == (408, "eof")
    assert _HEADER_TIMEOUT <= waited < _HEADER_TIMEOUT + 3, waited
    _contract_errors(quick.contract, 408, headers, body)


def test_a_trickle_of_header_bytes_does_not_extend_the_deadline(quick: Served) -> None:
    """Slowloris: one header byte every 0.2 s; the deadline counts from the request's first byte."""
    with socket.create_connection((quick.host, quick.port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        for _ in range(40):  # 8 s at most, far past the 1 s timeout
            try:
                sock.sendall(b"a")
            except (BrokenPipeError, ConnectionResetError):
                break
            sock.settimeout(0.2)
            try:
                if sock.recv(65536, socket.MSG_PEEK):
                    break
            except TimeoutError:
                continue
        sock.settimeout(10)
        received, _ = _read_until_closed(sock, time.monotonic() + 10)
        waited = time.monotonic() - started
    assert received.startswith(b"HTTP/1.1 408"), received[:200]
    assert waited < _HEADER_TIMEOUT + 3, waited


def test_a_connection_that_sends_nothing_is_closed_silently(quick: Served) -> None:
    with socket.create_connection((quick.host, quick.port), timeout=10) as sock:
        started = time.monotonic()
        received, ending = _read_until_closed(sock, started + 10)
        waited = time.monotonic() - started
    assert (received, ending) == (b"", "eof")
    assert waited < _HEADER_TIMEOUT + 3, waited


def test_endless_headers_get_431(quick: Served) -> None:
    raw = b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-Filler: " + b"a" * (quick.policy.max_header_bytes + 10)
    status, headers, body, ending = _exchange(quick, raw)
    assert (status, ending) == (431, "eof")
    _contract_errors(quick.contract, 431, headers, body)


def test_a_slow_but_complete_request_is_served_and_keep_alive_still_works(quick: Served) -> None:
    """Well-formed traffic is untouched: headers in pieces within the timeout, keep-alive, pipelining."""
    with socket.create_connection((quick.host, quick.port), timeout=10) as sock:
        for piece in (b"GET /health HT", b"TP/1.1\r\nHo", b"st: x\r\n\r\n"):
            sock.sendall(piece)
            time.sleep(_HEADER_TIMEOUT / 5)
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200"), first
        assert b"connection: close" not in first.lower()
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" * 2)  # pipelined
        received = b""
        for _ in range(100):
            if received.count(b"HTTP/1.1 200") == 2:
                break
            received += sock.recv(65536)
        assert received.count(b"HTTP/1.1 200") == 2, received


def test_the_launcher_configures_the_protocol() -> None:
    options: dict[str, Any] = uvicorn_options(ServerSettings(max_body_bytes=_LIMIT))
    policy: ProtocolPolicy = options["http"].keywords["policy"]
    assert policy.header_timeout == DEFAULT_HEADER_TIMEOUT
    assert policy.discard_bytes == 4 * _LIMIT


# ---------------------------------------------------------------- fuzz: mutated requests over raw sockets


def _seeds(served: Served) -> list[bytes]:
    path = served.contract.base_path + served.contract.batch_write.path
    login = served.credentials
    body = b"[]"
    return [
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
        f"GET {path} HTTP/1.1\r\nHost: x\r\n{login}\r\n".encode(),
        f"POST {path} HTTP/1.1\r\nHost: x\r\n{login}Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body,
        f"POST {path} HTTP/1.1\r\nHost: x\r\n{login}Content-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n".encode(),
    ]


_TOKENS = st.sampled_from(
    [
        *(b"\r\n", b"\n", b" ", b":", b"\x00", b"\xff", b"%", b"\t", b"0\r\n\r\n", b"HTTP/1.0", b"HTTP/2.0"),
        *(b"Content-Length: 5\r\n", b"Transfer-Encoding: chunked\r\n", b"Expect: 100-continue\r\n"),
        b"Connection: close\r\n",
    ]
)


@st.composite
def _mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    raw = seed
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(raw)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "duplicate_line"]))
        piece = draw(st.one_of(_TOKENS, st.binary(min_size=1, max_size=8)))
        if kind == "insert":
            raw = raw[:at] + piece + raw[at:]
        elif kind == "delete":
            raw = raw[:at] + raw[at + draw(st.integers(1, 12)) :]
        elif kind == "replace":
            raw = raw[:at] + piece + raw[at + len(piece) :]
        else:
            lines = raw.split(b"\r\n")
            index = draw(st.integers(0, len(lines) - 1))
            raw = b"\r\n".join(lines[: index + 1] + lines[index:])
    return raw


def _first_answer(served: Served, raw: bytes) -> tuple[bytes, str]:
    """The first complete answer (or what came before the server closed), within a bounded time."""
    with socket.create_connection((served.host, served.port), timeout=8) as sock:
        sock.sendall(raw)
        deadline = time.monotonic() + 8
        received = b""
        for _ in range(1000):
            head, sep, body = received.partition(b"\r\n\r\n")
            if sep and not head.startswith(b"HTTP/1.1 100"):
                length = _parse(received)[1].get("content-length")
                if length is not None and len(body) >= int(length):
                    return received, "answer"
            elif sep:
                received = body  # an interim 100 Continue: the real answer follows
                continue
            if time.monotonic() > deadline:
                return received, "timeout"
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError) as exc:
                return received, type(exc).__name__
            if not chunk:
                return received, "eof"
            received += chunk
    return received, "too many reads"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_requests_get_json_answers_never_5xx_or_a_hang(quick: Served, data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(_seeds(quick)))
    raw = data.draw(_mutated(seed))
    received, ending = _first_answer(quick, raw)
    assert received, f"no answer ({ending}) to {raw!r}"
    status, headers, body = _parse(received)
    assert status < 500, (raw, received)
    if body:
        assert headers.get("content-type", "").startswith("application/json"), (raw, received)
        if status >= 400:
            _contract_errors(quick.contract, status, headers, body)
