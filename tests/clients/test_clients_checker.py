"""check_request: for every client rule, a violating request is flagged and a conforming one is not."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from clients_support import BASE, JSON_VALUES, basic, body, headers, order
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.clients import (
    CLIENT_RULES,
    ClientChecker,
    Violation,
    check_request,
    load_client_spec,
    request_key,
)


def rules(violations: list[Violation]) -> list[str]:
    return [v.rule for v in violations]


def check(
    method: str, path: str, query: str = "", hdrs: dict[str, str] | None = None, data: bytes = b""
) -> list[Violation]:
    return check_request(method, BASE + path, query, headers() if hdrs is None else hdrs, data)


CONFORMING: list[tuple[str, str, str, bytes]] = [
    ("POST", "/orders", "", body([order(0), order(1, integration=739283, id="669")])),
    ("POST", "/orders", "", body([order(i) for i in range(100)])),
    ("GET", "/orders", "", b""),
    ("GET", "/orders", "integration=7,8&page_size=200&order_created_at_min=2023-04-28&sort=-pk", b""),
    ("GET", "/orders", "cursor=cj0xJnA9MzAw&status=fulfilled&order_id=a&order_number=b", b""),
    ("GET", "/orders/669", "", b""),
    (
        "PATCH",
        "/orders/669",
        "",
        body({"id": "669", "order_details": {"order_updated_at": "2018-02-28T11:05:15+01:00"}}),
    ),
    ("DELETE", "/orders/669", "", b""),
]


@pytest.mark.parametrize(("method", "path", "query", "data"), CONFORMING)
def test_conforming_requests_have_no_violations(method: str, path: str, query: str, data: bytes) -> None:
    hdrs = headers() if data else {"Authorization": basic()}
    assert check(method, path, query, hdrs, data) == []


def test_every_request_example_of_the_spec_conforms() -> None:
    spec = load_client_spec()
    checked = 0
    for op in spec.operations:
        media = spec.resolve(op.node.get("requestBody") or {}).get("content", {}).get("application/json", {})
        for name, example in (media.get("examples") or {}).items():
            value = spec.resolve(example)["value"]
            path = op.template.replace("{id}", "669")
            found = check(op.method, path, "", headers(), body(value))
            assert found == [], f"{op.operation_id} example {name}: {found}"
            checked += 1
    assert checked >= 2


# --- one violating request per rule -------------------------------------------------------------


def test_known_operation_flags_delete_sent_as_post() -> None:
    found = check("POST", "/orders/669", data=b"")
    assert rules(found) == ["client.known_operation"]
    assert "DELETE" in found[0].message and found[0].location == "method"


@pytest.mark.parametrize("path", ["/orders/", "/order", "/orders/669/items"])
def test_known_operation_flags_unknown_paths(path: str) -> None:
    assert "client.known_operation" in rules(check("GET", path, hdrs={"Authorization": basic()}))


def test_known_operation_flags_path_outside_the_base() -> None:
    found = check_request("GET", "/orders", "", {"Authorization": basic()}, b"")
    assert rules(found) == ["client.known_operation"]


def test_request_schema_points_at_the_first_problem_in_contract_syntax() -> None:
    broken = order(1)
    del broken["order_details"]["integration"]
    later = order(2)
    later["order_details"]["order_items"][0]["quantity"] = 0
    found = check("POST", "/orders", data=body([order(0), broken, later]))
    assert rules(found) == ["client.request_schema"]
    assert found[0].pointer == "/data/attributes/[1]/order_details/integration"
    assert "1 more" in found[0].message


def test_request_schema_nested_indices_are_unbracketed() -> None:
    broken = order(0)
    broken["order_details"]["order_items"][0]["quantity"] = 0
    found = check("POST", "/orders", data=body([broken]))
    assert [(v.rule, v.pointer) for v in found] == [
        ("client.request_schema", "/data/attributes/[0]/order_details/order_items/0/quantity")
    ]


def test_request_schema_whole_batch_not_a_list() -> None:
    found = check("POST", "/orders", data=body(order(0)))
    assert [(v.rule, v.pointer) for v in found] == [("client.request_schema", "/data/attributes/")]


def test_request_schema_flags_a_malformed_partner_header() -> None:
    found = check("POST", "/orders", hdrs=headers(**{"Sendcloud-Partner-Id": "nope"}), data=body([order(0)]))
    assert [(v.rule, v.location) for v in found] == [("client.request_schema", "header:Sendcloud-Partner-Id")]
    ok = headers(**{"Sendcloud-Partner-Id": "3f1c2a6e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"})
    assert check("POST", "/orders", hdrs=ok, data=body([order(0)])) == []


@pytest.mark.parametrize(
    ("count", "expected"), [(0, ["client.batch_size"]), (1, []), (100, []), (101, ["client.batch_size"])]
)
def test_batch_size(count: int, expected: list[str]) -> None:
    found = check("POST", "/orders", data=body([order(i) for i in range(count)]))
    assert rules(found) == expected
    if expected:
        assert found[0].pointer == "/data/attributes/"


@pytest.mark.parametrize(("value", "flagged"), [(669, True), ("669", False), ("abc", True), (None, True)])
def test_id_string_in_a_batch(value: Any, flagged: bool) -> None:
    found = check("POST", "/orders", data=body([order(0), order(1, id=value)]))
    assert rules(found) == (["client.id_string"] if flagged else [])
    if flagged:
        assert found[0].pointer == "/data/attributes/[1]/id"


def test_id_string_in_a_patch_body_and_in_the_path() -> None:
    assert rules(check("PATCH", "/orders/669", data=body({"id": 669}))) == ["client.id_string"]
    assert rules(check("PATCH", "/orders/669", data=body({"id": "670"}))) == ["client.id_string"]
    assert check("PATCH", "/orders/669", data=body({"id": "669"})) == []
    huge = "9" * 5000  # beyond int()'s default digit limit
    assert rules(check("PATCH", "/orders/669", data=body({"id": huge}))) == ["client.id_string"]
    assert rules(check("PATCH", f"/orders/{huge}", data=body({"id": huge}))) == ["client.id_string"]
    found = check("GET", "/orders/abc", hdrs={"Authorization": basic()})
    assert [(v.rule, v.location) for v in found] == [("client.id_string", "path:id")]


def test_content_type_flags_post_without_body() -> None:
    found = check("POST", "/orders", hdrs={"Authorization": basic()}, data=b"")
    assert rules(found) == ["client.content_type"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_content_type_flags_json_without_json_content_type(content_type: str) -> None:
    hdrs = {"Authorization": basic()}
    if content_type:
        hdrs["Content-Type"] = content_type
    assert rules(check("POST", "/orders", hdrs=hdrs, data=body([order(0)]))) == ["client.content_type"]


def test_content_type_accepts_charset_and_flags_invalid_json_and_bodies_on_get() -> None:
    ok = headers(**{"Content-Type": "application/json; charset=utf-8"})
    assert check("POST", "/orders", hdrs=ok, data=body([order(0)])) == []
    assert rules(check("POST", "/orders", data=b"[{")) == ["client.content_type"]
    assert rules(check("GET", "/orders/669", data=b"{}")) == ["client.content_type"]


@pytest.mark.parametrize(
    "query",
    [
        "integration[0]=7&integration[1]=8",
        "integration=7&integration=8",
        "integration=seven",
        "order_created_at=2023-04-28T10:00:00Z",
        "order_updated_at_max=28-04-2023",
        "page_size=0",
        "page_size=201",
        "limit=10",
    ],
)
def test_query_params_flags_undocumented_shapes(query: str) -> None:
    found = check("GET", "/orders", query, {"Authorization": basic()})
    assert found and set(rules(found)) == {"client.query_params"}, found


def test_query_params_bracket_hint_names_the_comma_list() -> None:
    found = check("GET", "/orders", "integration[0]=7", {"Authorization": basic()})
    assert "integration=7,8" in found[0].message


@pytest.mark.parametrize(
    "value",
    [
        "2018-02-27T10:00",
        "2018-02-27",
        "2018-02-27T10:00:00",
        "2018-02-27 10:00:00+00:00",
        "2018-02-27T10:00:00+0000",
        "2018-02-30T10:00:00Z",
        "yesterday",
    ],
)
def test_timestamps_flags_truncated_or_reserialised_values(value: str) -> None:
    item = order(0)
    item["order_details"]["order_items"][0]["delivery_dates"] = {"handover_at": value}
    found = check("POST", "/orders", data=body([order(1), item]))
    assert [(v.rule, v.pointer) for v in found] == [
        ("client.timestamps", "/data/attributes/[1]/order_details/order_items/0/delivery_dates/handover_at")
    ]


@pytest.mark.parametrize(
    "value", ["2018-02-27T10:00:00Z", "2018-02-27t10:00:00.123456+05:30", "2018-02-27T23:59:60Z"]
)
def test_timestamps_accepts_full_rfc3339(value: str) -> None:
    item = order(0)
    item["order_details"]["order_created_at"] = value
    assert check("POST", "/orders", data=body([item])) == []


@pytest.mark.parametrize(
    "auth",
    [
        None,
        "Bearer abc",
        "Basic !!!",
        "Basic " + "ZGVtbw==",
        "Basic " + "OnNlY3JldA==",
    ],  # no colon; empty user
)
def test_auth_flags_missing_or_malformed_credentials(auth: str | None) -> None:
    hdrs = {} if auth is None else {"Authorization": auth}
    assert rules(check("GET", "/orders", hdrs=hdrs)) == ["client.auth"]


class _History:
    def __init__(self, entries: dict[str, float]) -> None:
        self.entries = entries

    def last_conflict(self, key: str) -> float | None:
        return self.entries.get(key)


def test_conflict_backoff_flags_an_immediate_resend_of_the_same_batch() -> None:
    data = body([order(0)])
    key = request_key("demo", "POST", BASE + "/orders", data)
    history = _History({key: 100.0})
    checker = ClientChecker(min_retry_delay=0.5)
    too_soon = checker.check("POST", BASE + "/orders", "", headers(), data, history=history, now=100.2)
    assert rules(too_soon) == ["client.conflict_backoff"]
    assert checker.check("POST", BASE + "/orders", "", headers(), data, history=history, now=100.6) == []
    respaced = json.dumps([order(0)], indent=2, sort_keys=True).encode()  # same batch, re-serialised
    assert rules(
        checker.check("POST", BASE + "/orders", "", headers(), respaced, history=history, now=100.2)
    ) == ["client.conflict_backoff"]
    other = body([order(1)])  # a different batch is not a resend
    assert checker.check("POST", BASE + "/orders", "", headers(), other, history=history, now=100.2) == []
    other_user = headers(Authorization=basic("other", "other-secret"))
    assert checker.check("POST", BASE + "/orders", "", other_user, data, history=history, now=100.2) == []


def test_every_client_rule_is_exercised_by_the_checker_modules() -> None:
    here = Path(__file__).parent
    source = "".join(
        (here / name).read_text(encoding="utf-8")
        for name in ("test_clients_checker.py", "test_clients_karrio.py")
    )
    missing = [rule for rule in CLIENT_RULES if f'"{rule}"' not in source]
    assert missing == []


def test_violations_carry_the_request_summary_and_round_trip_as_dicts() -> None:
    data = body([order(0, id=5)])
    (violation,) = check("POST", "/orders", data=data)
    assert violation.request.method == "POST" and violation.request.path == BASE + "/orders"
    assert violation.request.identity == "demo" and violation.request.body_size == len(data)
    assert violation.request.operation_id == "upsertOrders"
    assert Violation.from_dict(copy.deepcopy(violation.to_dict())) == violation


_BODIES = st.one_of(
    st.binary(max_size=40),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.builds(lambda n: body([order(i) for i in range(n)]), st.integers(0, 3)),
)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    method=st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "get"]),
    path=st.one_of(
        st.sampled_from(
            [
                BASE + "/orders",
                BASE + "/orders/1",
                BASE + "/orders/x/",
                "/",
                "",
                BASE,
                BASE + "/orders/" + "9" * 5000,
            ]
        ),
        st.text(max_size=20).map(lambda t: BASE + "/" + t),
    ),
    query=st.text(max_size=30),
    hdrs=st.dictionaries(
        st.sampled_from(["Authorization", "Content-Type", "Sendcloud-Partner-Id", "X-Other"]),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
    ),
    data=_BODIES,
)
def test_the_checker_never_raises_on_arbitrary_requests(
    method: str, path: str, query: str, hdrs: dict[str, str], data: bytes
) -> None:
    found = check_request(method, path, query, hdrs, data)
    assert all(v.rule in CLIENT_RULES for v in found)
    assert all(v.message for v in found)
