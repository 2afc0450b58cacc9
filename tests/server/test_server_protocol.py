"""Hostile and malformed requests: always a JSON ErrorResponse, never a 500 or a hang, nothing written."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest
from srv_helpers import assert_error_shape, client, db_rows, make_order

from contracts.server import DEMO_ACCOUNTS, RunningServer, running_server

_JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server(max_body_bytes=256 * 1024, body_timeout=1.0) as started:
        yield started


def _orders_count(server: RunningServer) -> int:
    return int(db_rows(server, "SELECT COUNT(*) FROM items")[0][0])


def test_missing_and_wrong_credentials_give_401_with_challenge(server: RunningServer) -> None:
    for auth in (None, ("demo", "wrong"), ("nobody", "x")):
        response = httpx.request("GET", server.api_url + "/orders", auth=auth)
        errors = assert_error_shape(response, 401)
        assert errors[0]["code"] == "authentication_failed"
        assert response.headers["www-authenticate"].lower().startswith("basic")
    bad_header = httpx.get(server.api_url + "/orders", headers={"authorization": "Basic !!!notbase64"})
    assert_error_shape(bad_header, 401)
    post = httpx.post(server.api_url + "/orders", json=[make_order()])
    assert_error_shape(post, 401)


def test_partner_header_is_checked(server: RunningServer) -> None:
    with client(server) as c:
        known = c.get("/orders", headers={"Sendcloud-Partner-Id": server.partner_ids[0]})
        assert known.status_code == 200
        for value in ("not-a-uuid", "7bdd5bfd-76bc-4654-9d40-5d5d49f1cd6c"):
            errors = assert_error_shape(c.get("/orders", headers={"Sendcloud-Partner-Id": value}), 400)
            assert errors[0]["source"] == {"header": "Sendcloud-Partner-Id"}


def test_body_too_large_is_413_even_without_content_length(server: RunningServer) -> None:
    big = orjson.dumps([make_order(notes="x" * 300_000)])
    before = _orders_count(server)
    with client(server) as c:
        assert_error_shape(c.post("/orders", content=big, headers=_JSON), 413)

        def chunks() -> Iterator[bytes]:  # chunked transfer: no Content-Length to trust
            for start in range(0, len(big), 16_384):
                yield big[start : start + 16_384]

        assert_error_shape(c.post("/orders", content=chunks(), headers=_JSON), 413)
    assert _orders_count(server) == before


def test_lying_content_length_does_not_hang(server: RunningServer) -> None:
    body = orjson.dumps([make_order()])
    head = (
        "POST /api/v3/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Authorization: Basic ZGVtbzpkZW1vLXNlY3JldA==\r\nContent-Length: 10\r\nConnection: close\r\n\r\n"
    )
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        received = b""
        for _ in range(100):  # bounded: the server closes the connection after answering
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        answer = received.decode(errors="replace")
    assert answer.startswith("HTTP/1.1 400"), answer[:200]
    assert '"errors"' in answer


def test_a_body_that_never_arrives_times_out(server: RunningServer) -> None:
    head = (
        "POST /api/v3/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Authorization: Basic ZGVtbzpkZW1vLXNlY3JldA==\r\nContent-Length: 1000\r\n\r\n[{"
    )
    host, port = server.base_url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode())  # ...and then nothing more
        answer = sock.recv(65536).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 408"), answer[:200]
    assert time.monotonic() - started < 8


def test_wrong_content_type_is_415(server: RunningServer) -> None:
    with client(server) as c:
        response = c.post(
            "/orders", content=orjson.dumps([make_order()]), headers={"content-type": "text/plain"}
        )
        errors = assert_error_shape(response, 415)
        assert errors[0]["code"] == "unsupported_media_type"
        assert_error_shape(c.post("/orders", content=b"[]"), 415)  # no content type at all


@pytest.mark.parametrize(
    "body",
    [b"", b"   ", b"[{", b'{"a": }', b"\xff\xfe[]", b"[NaN]", b'[{"order_id": "1",}]'],
    ids=["empty", "blank", "truncated", "syntax", "not-utf8", "nan", "trailing-comma"],
)
def test_malformed_json_is_400(server: RunningServer, body: bytes) -> None:
    with client(server) as c:
        errors = assert_error_shape(c.post("/orders", content=body, headers=_JSON), 400)
    assert errors[0]["code"] == "parse_error"


def test_deep_nesting_is_rejected_not_crashed(server: RunningServer) -> None:
    with client(server) as c:
        deep_array = b"[" * 100_000 + b"]" * 100_000
        assert_error_shape(c.post("/orders", content=deep_array, headers=_JSON), 400)
        assert_error_shape(c.patch("/orders/1", content=deep_array, headers=_JSON), 400)
        order = make_order()
        nested: dict[str, object] = {}
        node = nested
        for _ in range(400):  # parses (orjson allows 1024) but is deeper than the store allows
            node["x"] = {}
            node = node["x"]  # type: ignore[assignment]
        order["order_details"]["order_items"][0]["properties"] = nested
        errors = assert_error_shape(c.post("/orders", json=[order]), 400)
    assert errors[0]["source"]["pointer"] == "/data/attributes/[0]"


def test_method_not_allowed_names_every_method_of_the_path(server: RunningServer) -> None:
    """RFC 9110: a 405's Allow header lists the methods the resource has (one route per path)."""
    with client(server) as c:
        for path, methods in [
            ("/orders", {"GET", "HEAD", "POST"}),
            ("/orders/1", {"GET", "HEAD", "PATCH", "DELETE"}),
        ]:
            response = c.options(path)
            assert_error_shape(response, 405)
            assert {m.strip() for m in response.headers["allow"].split(",")} == methods


def test_unknown_paths_and_methods_answer_json(server: RunningServer) -> None:
    with client(server) as c:
        assert_error_shape(c.get("/nope"), 404)
        assert_error_shape(c.put("/orders", json=[]), 405)
        assert_error_shape(c.get("/orders/0"), 404)
        assert_error_shape(c.get("/orders/99999999999999999999999"), 404)
        assert_error_shape(c.get("/orders/" + "9" * 5000), 404)  # beyond int()'s default digit limit
        errors = assert_error_shape(c.post("/orders", json=[dict(make_order(), id="9" * 5000)]), 400)
        assert errors[0]["source"]["pointer"] == "/data/attributes/[0]/id"
        errors = assert_error_shape(c.get("/orders/abc"), 400)
        assert errors[0]["source"] == {"parameter": "id"}


def test_running_server_stops_its_process() -> None:
    with running_server() as started:
        url = started.base_url
        assert httpx.get(url + "/health").status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/health", timeout=2)


def test_demo_accounts_are_the_documented_ones() -> None:
    assert DEMO_ACCOUNTS[0].integrations == (7, 739283)
    assert DEMO_ACCOUNTS[1].integrations == (8,)
