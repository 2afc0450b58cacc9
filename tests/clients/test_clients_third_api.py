"""The client checks on an API they were not written for (tests/fixtures/specs/third_api, written only from
docs/x-contract.md): bearer auth, a tenant header, a wrapped list, errors located by an index member."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contracts.clients import ClientChecker, Violation

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "specs" / "third_api" / "depot-stock-items.yaml"
TENANT = "3f1c2a6e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"


@pytest.fixture(scope="module")
def checker() -> ClientChecker:
    return ClientChecker(str(SPEC))


def _example(checker: ClientChecker) -> Any:
    media = checker.spec.resolve(checker.spec.batch_operation.node["requestBody"])["content"]
    examples = media["application/json"]["examples"]
    return checker.spec.resolve(next(iter(examples.values())))["value"]


def _send(checker: ClientChecker, data: Any, **hdrs: str) -> list[Violation]:
    headers = {"Authorization": "Bearer tok_1", "Content-Type": "application/json", **hdrs}
    return checker.check("POST", checker.spec.batch_url_path, "", headers, json.dumps(data).encode())


def test_the_example_batch_conforms_with_and_without_the_optional_tenant(checker: ClientChecker) -> None:
    tenant = checker.contract.auth.headers[0]
    assert _send(checker, _example(checker)) == []
    assert _send(checker, _example(checker), **{tenant.name: TENANT}) == []
    found = _send(checker, _example(checker), **{tenant.name: "depot-1"})
    assert [(v.rule, v.location) for v in found] == [("client.request_schema", f"header:{tenant.name}")]


def test_a_broken_item_is_located_by_a_pointer_into_the_request(checker: ClientChecker) -> None:
    data = _example(checker)
    items = checker.spec.batch.items_of(data)
    assert items is not None and len(items) >= 2
    member = next(k for k, v in items[1].items() if isinstance(v, str))
    items[1][member] = 12345
    (found,) = _send(checker, data)
    assert (found.rule, found.pointer) == ("client.request_schema", f"{checker.spec.batch.items}/1/{member}")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "no Authorization header"), ("Basic eDp5", "scheme 'Basic'"), ("Bearer", "nothing after it")],
)
def test_bearer_auth_is_wanted(checker: ClientChecker, value: str | None, expected: str) -> None:
    headers = {} if value is None else {"Authorization": value}
    (found,) = checker.check("GET", checker.spec.batch_url_path.rsplit("/", 1)[0], "", headers, b"")
    assert found.rule == "client.auth" and expected in found.message and "Bearer <token>" in found.message


def test_synchronous_processing_makes_the_operation_rules_not_applicable(checker: ClientChecker) -> None:
    assert {"client.poll_interval", "client.resubmit_running"} <= set(checker.not_applicable)
