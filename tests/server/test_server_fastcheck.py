"""The fast batch check (jsonschema_rs, ``contracts/server/_fastcheck.py``) against the detailed validator.

Differential: for Hypothesis batches of both packaged specs — valid ones, the suite's invalid ones and
valid ones with arbitrary JSON put at any member — the fast check accepts exactly the batches the detailed
validator finds nothing in; and a server with the fast check answers byte for byte what a server without it
answers.  Plus the places where strict JSON-mode pydantic and JSON Schema differ, one by one.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AwareDatetime, TypeAdapter
from srv_helpers import make_order

from contracts.contract import load_contract
from contracts.server import RunningServer, ServerSettings, create_app
from contracts.server._fastcheck import _SAFE_DATETIME
from contracts.server._shape import shape_of
from contracts.server._validation import Validators, validators_for
from contracts.strategies import fault_targets, invalid_batches, load_spec, path_of, valid_batches

SPECS = ("sendcloud-orders-v3.yaml", "karrio-batch-orders.yaml")
OWNED = {"sendcloud-orders-v3.yaml": [7, 739283], "karrio-batch-orders.yaml": []}
_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def _validators(spec: str) -> Validators:
    validators = validators_for(shape_of(load_contract(spec)))
    assert validators.source.startswith("pydantic"), validators.source
    assert validators.accepts is not None, "the fast check must be available for the packaged specs"
    return validators


def _invalid(spec: str, document: Any, size: int) -> Any:
    """``invalid_batches`` of ``spec``.  A fault at a key member with a default (Karrio's source) can fail to
    generate (KeyError in contracts.strategies.apply_fault once the member was copied away): such targets
    are left out."""
    defaulted = {member.strip("/") for member in document.contract.key.defaults}
    targets = [
        t for t in fault_targets(document) if str(path_of(t)[0] if path_of(t) else "") not in defaulted
    ]
    return invalid_batches(OWNED[spec], spec=document, max_size=size, targets=targets)


def _agree(validators: Validators, items: Any, *, exact: bool = True) -> bool:
    """The fast check never accepts what the detailed validator refuses; with ``exact`` it also accepts
    everything that validator accepts (else such a batch only takes the slower path).  Whether it accepted."""
    assert validators.accepts is not None
    slow = validators.batch(items)
    fast = validators.accepts(items)
    assert not (fast and slow), ("fast check looser than pydantic", slow[:3], orjson.dumps(items)[:600])
    if exact:
        assert fast == (not slow), (slow[:3], orjson.dumps(items)[:600])
    return bool(fast)


# Forms pydantic accepts that the fast check leaves to it (its date-time pattern is a safe subset).
_LEFT_TO_PYDANTIC = ("1700000000", "2024-03-01 10:00:00Z", "2024-02-29T10:00:00Z", "2024-03-01t10:00:00Z")


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _put(document: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        document = document[part]
    document[path[-1]] = value


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0, 1, 1.0, -1, 7.0, 2.5, "", "1700000000", "2024-06-30T23:59:60Z", "2024-03-01"])
    | st.sampled_from(["2024-03-01 10:00:00Z", "2024-03-01T10:00:00", "http://a:99999", "http://x.org/a"])
    | st.sampled_from(["AB", "ab", "A", "EUR", "12", "1.50", "x" * 300, "٣", "NL\n"])
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


@pytest.mark.parametrize("spec", SPECS)
def test_fast_check_agrees_on_valid_batches(spec: str) -> None:
    validators, document = _validators(spec), load_spec(spec)

    accepted: list[bool] = []

    @_SETTINGS
    @given(valid_batches(OWNED[spec], spec=document, max_size=12))
    def check(batch: list[Any]) -> None:
        assert not validators.batch(batch)
        accepted.append(_agree(validators, batch, exact=False))

    check()
    # A valid batch the fast check leaves to pydantic is answered the same, only slower: it must be rare
    # (here: a date-time form outside the fast pattern, such as 29 February).
    assert sum(accepted) >= 0.8 * len(accepted), f"{sum(accepted)} of {len(accepted)} taken by the fast path"


@pytest.mark.parametrize("spec", SPECS)
def test_fast_check_agrees_on_invalid_batches(spec: str) -> None:
    validators, document = _validators(spec), load_spec(spec)
    contract = document.contract

    @_SETTINGS
    @given(_invalid(spec, document, 12))
    def check(invalid: Any) -> None:
        items = contract.batch.items_of(invalid.batch)
        if isinstance(items, list):
            _agree(validators, items, exact=False)

    check()


@pytest.mark.parametrize("spec", SPECS)
def test_fast_check_agrees_on_arbitrary_values_anywhere(spec: str) -> None:
    validators, document = _validators(spec), load_spec(spec)

    @_SETTINGS
    @given(valid_batches(OWNED[spec], spec=document, max_size=3), st.data())
    def check(batch: list[Any], data: st.DataObject) -> None:
        for _ in range(data.draw(st.integers(1, 3))):
            paths = [p for p in _paths(batch) if p]
            path = data.draw(st.sampled_from(paths))
            if data.draw(st.booleans()) and isinstance(path[-1], str):
                parent: Any = batch
                for part in path[:-1]:
                    parent = parent[part]
                del parent[path[-1]]
            else:
                _put(batch, path, data.draw(_JSON))
        _agree(validators, batch, exact=False)

    check()


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"k": value}
    return value


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("/order_details/integration/id", 7.0),  # an integer written as a float: pydantic says no
        ("/order_details/integration/id", 2**64),
        ("/order_details/order_created_at", "1700000000"),  # pydantic takes Unix time; JSON Schema not
        ("/order_details/order_created_at", "2024-06-30T23:59:60Z"),  # a leap second: the reverse
        ("/order_details/order_created_at", "2024-03-01 10:00:00Z"),
        ("/order_details/order_created_at", "2024-02-29T10:00:00Z"),
        ("/order_details/order_created_at", "2024-03-01t10:00:00Z"),
        ("/order_details/order_created_at", "2024-03-01T10:00:00"),  # no offset
        ("/order_details/order_items/0/image_url", "http://a:99999"),
        ("/order_details/order_items/0/image_url", "urn:x"),
        ("/shipping_address/country_code", "NL\n"),
        ("/order_details/order_items/0/quantity", True),
        ("/payment_details/total_price/value", 3),  # an integer where a number goes: fine
    ],
)
def test_fast_check_agrees_where_json_schema_and_pydantic_differ(member: str, value: Any) -> None:
    validators = _validators(SPECS[0])
    order = make_order("FC-1")
    tokens = member.strip("/").split("/")
    node: Any = order
    for token in tokens[:-1]:
        node = node[int(token)] if isinstance(node, list) else node.setdefault(token, {})
    node[tokens[-1]] = value
    _agree(validators, [order], exact=value not in _LEFT_TO_PYDANTIC)


@pytest.mark.parametrize("levels", [190, 195, 196, 197, 198, 199, 200, 210])
@pytest.mark.parametrize("where", ["free_form", "unknown_member"])
def test_fast_check_bounds_nesting_like_the_json_parser(levels: int, where: str) -> None:
    """pydantic parses JSON at most 200 containers deep; the fast check must not accept deeper."""
    validators = _validators(SPECS[0])
    order = make_order("FC-2")
    if where == "free_form":
        order["shipping_details"] = {"service_point": {"extra_data": {"x": _deep(levels)}}}
    else:
        order["shipping_address"]["unknown"] = _deep(levels)
    _agree(validators, [order])


def _answers(spec: str, bodies: list[bytes], fast: bool, tmp: str, monkeypatch: Any) -> list[Any]:
    monkeypatch.setattr("contracts.server._operations.now_iso", lambda: "2026-01-01T00:00:00.000000Z")
    app = create_app(ServerSettings(db_path=f"{tmp}/{'fast' if fast else 'slow'}.sqlite3", spec_path=spec))
    state = app.state.server
    if not fast:
        state.validators = dataclasses.replace(state.validators, accepts=None)
    contract = state.contract
    running = RunningServer("http://t", state.settings, state.settings.db_path)
    path = contract.base_path + contract.batch_write.path
    headers = {**running.headers, "content-type": "application/json"}

    async def run() -> list[Any]:
        answers = []
        transport = httpx.ASGITransport(app=app)
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport) as client:
            for body in bodies:
                response = await client.post("http://t" + path, content=body, headers=headers)
                answers.append((response.status_code, response.content))
        return answers

    answers = asyncio.run(run())
    return answers


@pytest.mark.parametrize("spec", SPECS)
def test_answers_are_byte_identical_with_and_without_the_fast_check(
    spec: str, tmp_path: Any, monkeypatch: Any
) -> None:
    document = load_spec(spec)
    contract = document.contract
    bodies: list[bytes] = []

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(
        st.one_of(
            valid_batches(OWNED[spec], spec=document, max_size=5).map(contract.batch.wrap),
            _invalid(spec, document, 5).map(lambda b: b.batch),
        )
    )
    def collect(body: Any) -> None:
        bodies.append(orjson.dumps(body))
        bodies.append(orjson.dumps(copy.deepcopy(body)))  # the same keys again: updates

    collect()
    assert len(bodies) >= 20
    fast = _answers(spec, bodies, True, str(tmp_path), monkeypatch)
    slow = _answers(spec, bodies, False, str(tmp_path), monkeypatch)
    assert {status for status, _ in fast} & {200, 201, 202}, "no batch was accepted"
    assert {status for status, _ in fast} - {200, 201, 202}, "no batch was refused"
    for index, (one, other) in enumerate(zip(fast, slow, strict=True)):
        assert one == other, (index, bodies[index][:300])


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.from_regex(_SAFE_DATETIME, fullmatch=True))
def test_every_date_time_the_fast_pattern_passes_is_one_pydantic_accepts(text: str) -> None:
    """The fast check passes date-times by a pattern instead of asking pydantic: it must pass no string
    pydantic refuses (a string it does not pass goes to pydantic, which decides)."""
    TypeAdapter(AwareDatetime).validate_json(orjson.dumps(text), strict=True)


@pytest.mark.parametrize("spec", SPECS)
def test_fast_check_of_the_spec_schema_agrees_with_jsonschema(spec: str, monkeypatch: Any) -> None:
    """Without the generated package the server validates with the spec's JSON Schema (python-jsonschema);
    the fast check is then jsonschema_rs on the same schema and must agree exactly."""
    from contracts.server import _validation

    monkeypatch.setattr(_validation, "_import", lambda module: None)
    validators = _validation._build(shape_of(load_contract(spec)))
    assert validators.source == "JSON Schema" and validators.accepts is not None
    document = load_spec(spec)

    @_SETTINGS
    @given(st.one_of(valid_batches(OWNED[spec], spec=document, max_size=6), _invalid(spec, document, 6)))
    def check(drawn: Any) -> None:
        items = drawn if isinstance(drawn, list) else document.contract.batch.items_of(drawn.batch)
        if isinstance(items, list):
            _agree(validators, items)

    check()
