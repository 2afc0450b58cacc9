"""The vocabulary check asks jsonschema_rs first and the Python validator only for a block it refuses: the
fast check must never accept a block the Python validator refuses (random mutations of the repo's blocks),
and it must accept the repo's own blocks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.contract._schema import _accepts, located_findings, validate_block

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = [
    yaml.safe_load(path.read_text(encoding="utf-8"))["x-contract"]
    for path in [
        *sorted((ROOT / "spec").glob("*.yaml")),
        ROOT / "tests/fixtures/specs/third_api/depot-stock-items.yaml",
    ]
]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 300) | st.floats(-2, 2, allow_nan=False)
    | st.sampled_from(["", "/x", "/order_id", "a~b", "update", "reuse", "pointer", "x\n", "{index}"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["a", "min_items", "mode"]), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def test_the_repo_blocks_are_accepted_by_both() -> None:
    for block in BLOCKS:
        assert _accepts()(block)
        assert located_findings(block) == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_fast_check_never_accepts_what_the_python_validator_refuses(data: st.DataObject) -> None:
    block = copy.deepcopy(data.draw(st.sampled_from(BLOCKS)))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(block)))
        parent = block
        for step in path[:-1]:
            parent = parent[step]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(JSON)
        if not _paths(block):
            break
    refused = located_findings(block)
    if _accepts()(block):
        assert refused == [], refused
    assert validate_block(block) == refused
