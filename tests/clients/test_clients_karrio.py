"""The client rules judged by the Karrio contract: a wrapped list, token auth, no size limit, no conflict
answer, and the rules of an asynchronous API (poll interval, no resubmission while the operation runs)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from clients_support import JSON_VALUES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from karrio_support import BATCH, KEY, OPERATIONS, SPEC, batch, headers, karrio_order, token

from contracts.clients import (
    CLIENT_RULES,
    CheckStore,
    ClientChecker,
    SeenOperation,
    Violation,
    load_client_spec,
)
from contracts.clients._envelope import conflict_body, error_body
from contracts.clients._scripts import ScriptError, parse_script_flag
from contracts.contract import load_contract


@pytest.fixture(scope="module")
def checker() -> ClientChecker:
    return ClientChecker(SPEC, min_poll_interval=0.5)


def rules(found: list[Violation]) -> list[str]:
    return [v.rule for v in found]


def located(found: list[Violation]) -> list[tuple[str, str | None]]:
    return [(v.rule, v.pointer) for v in found]


def test_the_spec_resolves_by_packaged_name_and_by_path(checker: ClientChecker) -> None:
    by_path = load_client_spec("spec/karrio-batch-orders.yaml")
    assert by_path.contract.dialect == checker.contract.dialect == SPEC
    assert checker.spec.base_path == "" and checker.spec.batch_url_path == BATCH


def test_every_request_example_of_the_spec_conforms(checker: ClientChecker) -> None:
    spec, checked = checker.spec, 0
    for op in spec.operations:
        media = spec.resolve(op.node.get("requestBody") or {}).get("content", {}).get("application/json", {})
        for name, example in (media.get("examples") or {}).items():
            data = json.dumps(spec.resolve(example)["value"]).encode()
            found = checker.check(op.method, op.template, "", headers(), data)
            assert found == [], f"{op.operation_id} example {name}: {found}"
            checked += 1
    assert checked >= 2


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("GET", "/v1/orders", ""),
        ("GET", "/v1/orders", "order_id=K-1&source=ERP&limit=20&offset=40"),
        ("GET", "/v1/orders/ord_5c1f", ""),
        ("GET", OPERATIONS, "limit=5"),
        ("GET", OPERATIONS + "/batch_81d2", ""),
    ],
)
def test_conforming_reads_have_no_violations(
    checker: ClientChecker, method: str, path: str, query: str
) -> None:
    assert checker.check(method, path, query, {"Authorization": token()}, b"") == []


def test_a_batch_has_no_upper_size_limit(checker: ClientChecker) -> None:
    assert checker.spec.max_items is None
    data = batch(*(karrio_order(i) for i in range(1000)))
    assert checker.check("POST", BATCH, "", headers(), data) == []


def test_an_empty_batch_is_flagged_at_the_list(checker: ClientChecker) -> None:
    found = checker.check("POST", BATCH, "", headers(), batch())
    assert located(found) == [("client.batch_size", "/orders")]


@pytest.mark.parametrize("data", [[karrio_order(0)], {}, {"orders": {"0": karrio_order(0)}}, "orders"])
def test_a_batch_without_its_wrapped_list_says_where_the_list_goes(checker: ClientChecker, data: Any) -> None:
    found = checker.check("POST", BATCH, "", headers(), json.dumps(data).encode())
    assert located(found) == [("client.request_schema", "/orders")]
    assert '{"orders": [' in found[0].message


def test_a_broken_order_is_located_by_a_pointer_into_the_request(checker: ClientChecker) -> None:
    broken = karrio_order(1)
    del broken["line_items"]
    later = karrio_order(2, shipping_to={"country_code": "Canada"})
    found = checker.check("POST", BATCH, "", headers(), batch(karrio_order(0), broken, later))
    assert located(found) == [("client.request_schema", "/orders/1/line_items")]
    assert "1 more" in found[0].message
    expected = checker.contract.errors.locate(1, ("line_items",))  # as the API names it in its errors
    assert expected and found[0].message.startswith(expected)


def test_a_timestamp_inside_an_order_is_located_in_the_list(checker: ClientChecker) -> None:
    item = karrio_order(0, metadata={"note": "x"})
    item["line_items"][0]["title"] = "ok"
    assert checker.check("POST", BATCH, "", headers(), batch(item)) == []
    item["order_date"] = "2026-01-15T10:00"  # a date-time where the spec wants a day
    found = checker.check("POST", BATCH, "", headers(), batch(karrio_order(0), item))
    assert located(found) == [("client.request_schema", "/orders/1/order_date")]


@pytest.mark.parametrize(
    ("value", "flagged"),
    [
        (None, True),
        ("", True),
        ("Basic ZGVtbzpkZW1vLXNlY3JldA==", True),
        ("Bearer key_1", True),
        ("Token", True),
        ("Token a b", True),
        ("Token key_1", False),
        ("token key_1", False),  # the scheme word is case-insensitive
    ],
)
def test_auth_wants_the_token_scheme(checker: ClientChecker, value: str | None, flagged: bool) -> None:
    hdrs = {} if value is None else {"Authorization": value}
    found = checker.check("GET", "/v1/orders", "", hdrs, b"")
    assert rules(found) == (["client.auth"] if flagged else [])
    if flagged:
        assert "Token <key>" in found[0].message and found[0].location == "header:authorization"


def test_the_identity_is_a_digest_never_the_key(checker: ClientChecker) -> None:
    identity = checker.identity({"Authorization": token()})
    assert identity.startswith("key:") and KEY not in identity
    assert identity != checker.identity({"Authorization": token("key_other")})
    (violation,) = checker.check("POST", BATCH, "", headers(), batch())
    assert violation.request.identity == identity and violation.request.operation_id == "createOrderBatch"


def test_unknown_methods_and_paths_are_flagged(checker: ClientChecker) -> None:
    found = checker.check("POST", "/v1/orders", "", headers(), batch(karrio_order(0)))
    assert [(v.rule, v.location) for v in found] == [("client.known_operation", "method")]
    found = checker.check("GET", "/api/orders", "", {"Authorization": token()}, b"")
    assert rules(found) == ["client.known_operation"]


def test_rules_without_a_basis_in_the_contract_are_not_applicable(checker: ClientChecker) -> None:
    assert set(checker.not_applicable) == {"client.conflict_backoff"}
    assert "client.conflict_backoff" not in checker.rules
    assert {"client.poll_interval", "client.resubmit_running"} <= set(checker.rules)
    synchronous = ClientChecker()
    assert {"client.poll_interval", "client.resubmit_running"} <= set(synchronous.not_applicable)
    assert set(checker.rules) | set(checker.not_applicable) == set(CLIENT_RULES)


class _Seen:
    """What a check store would remember: polls by operation key, operations by batch key."""

    def __init__(self) -> None:
        self.polls: dict[str, float] = {}
        self.batches: dict[str, SeenOperation] = {}

    def last_poll(self, key: str) -> float | None:
        return self.polls.get(key)

    def operation_of_batch(self, batch_key: str) -> SeenOperation | None:
        return self.batches.get(batch_key)

    def last_conflict(self, key: str) -> float | None:
        return 100.0  # would flag every resend, if the contract documented a conflict answer


def test_poll_interval_flags_a_busy_loop_on_one_operation(checker: ClientChecker) -> None:
    seen, auth = _Seen(), {"Authorization": token()}
    facts = checker.facts("GET", OPERATIONS + "/batch_1", auth, b"")
    assert facts.role == "operation_status" and facts.operation_id == "batch_1"
    assert facts.operation_key is not None
    seen.polls[facts.operation_key] = 100.0

    def poll(path: str, now: float, hdrs: dict[str, str] = auth) -> list[str]:
        return rules(checker.check("GET", path, "", hdrs, b"", operations=seen, now=now))

    assert poll(OPERATIONS + "/batch_1", 100.2) == ["client.poll_interval"]
    assert poll(OPERATIONS + "/batch_1", 100.5) == []
    assert poll(OPERATIONS + "/batch_2", 100.2) == []  # another operation
    assert poll(OPERATIONS + "/batch_1", 100.2, {"Authorization": token("key_other")}) == []  # another client
    assert poll(OPERATIONS, 100.2) == []  # listing operations is not polling one


def test_resubmit_running_flags_the_same_batch_while_its_operation_runs(checker: ClientChecker) -> None:
    seen, data = _Seen(), batch(karrio_order(0))
    key = checker.facts("POST", BATCH, headers(), data).key
    seen.batches[key] = SeenOperation("batch_1", "running", 100.0)

    def send(body: bytes, now: float) -> list[str]:
        return rules(
            checker.check("POST", BATCH, "", headers(), body, history=seen, operations=seen, now=now)
        )

    assert send(data, 101.0) == ["client.resubmit_running"]  # and no conflict back-off: not applicable
    respaced = json.dumps({"orders": [karrio_order(0)]}, indent=2).encode()
    assert send(respaced, 101.0) == ["client.resubmit_running"]
    assert send(batch(karrio_order(1)), 101.0) == []  # another batch
    assert send(data, 100.0 + 61) == []  # past complete_within_seconds: the client may try again
    seen.batches[key] = SeenOperation("batch_1", "completed", 100.0)
    assert send(data, 101.0) == []
    seen.batches[key] = SeenOperation("batch_1", None, 100.0)  # accepted, status never seen
    (found,) = checker.check("POST", BATCH, "", headers(), data, operations=seen, now=102.5)
    assert found.rule == "client.resubmit_running" and "batch_1" in found.message


def test_answers_made_up_by_the_checks_use_the_karrio_error_envelope(checker: ClientChecker) -> None:
    errors = checker.contract.errors
    assert error_body(errors, 413, "too big") == {
        "errors": [{"code": "payload_too_large", "message": "too big"}]
    }
    assert error_body(errors, 502, "upstream down") == {
        "errors": [{"code": "invalid", "message": "upstream down"}]
    }
    request = (BATCH, "", headers(), batch(karrio_order(0)))
    answer = json.dumps(error_body(errors, 413, "Request body exceeds 5 bytes.")).encode()
    json_type = {"Content-Type": "application/json"}
    assert checker.check_response("POST", *request, 413, json_type, answer) == []


def test_a_conflict_cannot_be_scripted_when_the_spec_documents_none(checker: ClientChecker) -> None:
    with pytest.raises(ScriptError, match="no conflict answer"):
        parse_script_flag("conflict:2", conflicts=False)
    script = parse_script_flag("conflict", default_conflict=("POST", BATCH))
    assert (script.method, script.path) == ("POST", BATCH)
    assert parse_script_flag("server_error:1", conflicts=False).answer == "server_error"


def test_the_sendcloud_conflict_answer_comes_from_its_contract() -> None:
    contract = load_contract()
    assert contract.conflict is not None
    status, answer = conflict_body(contract.conflict, contract.errors)
    (error,) = answer["errors"]
    assert status == contract.conflict.status and error["detail"] == contract.conflict.detail
    assert error["status"] == str(status) and error["source"]["pointer"] == contract.conflict.pointer


_BODIES = st.one_of(
    st.binary(max_size=40),
    JSON_VALUES.map(lambda v: json.dumps({"orders": v}).encode()),
    st.builds(lambda n: batch(*(karrio_order(i) for i in range(n))), st.integers(0, 3)),
)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    method=st.sampled_from(["GET", "POST", "PATCH", "DELETE", "get"]),
    path=st.one_of(
        st.sampled_from([BATCH, OPERATIONS, OPERATIONS + "/batch_1", "/v1/orders/x/", "/", ""]),
        st.text(max_size=20).map(lambda t: OPERATIONS + "/" + t),
    ),
    query=st.text(max_size=30),
    auth=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
    data=_BODIES,
)
def test_the_karrio_checks_never_raise_and_remember_only_what_they_should(
    checker: ClientChecker, method: str, path: str, query: str, auth: str, data: bytes
) -> None:
    store = CheckStore()
    hdrs = {"Authorization": auth, "Content-Type": "application/json"}
    for now in (100.0, 100.01):
        found = checker.check(method, path, query, hdrs, data, history=store, operations=store, now=now)
        assert all(v.rule in checker.rules and v.message for v in found)
    assert "client.resubmit_running" not in rules(found)  # nothing was accepted: no operation to run


def test_only_plausible_operation_ids_are_remembered(checker: ClientChecker) -> None:
    from contracts.clients._operations import accepted_operation

    contract = checker.contract
    assert accepted_operation(contract, {"id": "batch_1", "status": "queued"}) == ("batch_1", "queued")
    assert accepted_operation(contract, {"id": 7, "status": None}) == ("7", None)
    assert accepted_operation(contract, {"id": "x" * 257, "status": "queued"}) is None
    assert accepted_operation(contract, {"id": True}) is None and accepted_operation(contract, []) is None
    assert accepted_operation(ClientChecker().contract, {"id": "1"}) is None  # synchronous: no operation
