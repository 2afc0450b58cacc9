"""Fixtures for the reference-server tests: one subprocess server per module (real uvicorn, real SQLite)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contracts.server import RunningServer, running_server


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server() as started:
        yield started
