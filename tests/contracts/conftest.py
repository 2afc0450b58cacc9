"""Fixtures for the contract-suite tests: the ci Hypothesis profile, the spec, small broken servers."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

os.environ.setdefault("ORDERS_CONTRACT_PROFILE", "ci")

from tiny_servers import TinyServer  # noqa: E402

from contracts.strategies import SpecDocument, load_spec  # noqa: E402


@pytest.fixture(scope="session")
def spec() -> SpecDocument:
    return load_spec()


@pytest.fixture
def hanging_server() -> Iterator[str]:
    with TinyServer("hang") as server:
        yield server.url


@pytest.fixture
def hangs_after_preflight() -> Iterator[str]:
    """Answers the two preflight requests, then never answers again."""
    with TinyServer("hang", answered=2) as server:
        yield server.url


@pytest.fixture
def garbage_after_preflight() -> Iterator[str]:
    """Answers the two preflight requests with JSON, then HTML to everything."""
    with TinyServer("garbage", answered=2) as server:
        yield server.url


@pytest.fixture
def garbage_server() -> Iterator[str]:
    with TinyServer("garbage") as server:
        yield server.url


@pytest.fixture
def trickling_server() -> Iterator[str]:
    with TinyServer("trickle") as server:
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
