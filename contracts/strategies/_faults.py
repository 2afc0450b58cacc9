"""Invalid batches with a known expected outcome: one schema-derived fault in one order, or a
whole-batch fault (too many orders, not an array, empty, malformed JSON)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from ._orders import Order, batch_sizes, build_batch, order_strategy, set_pointer
from ._schema import BRANCH, ITEM, ConstrainedPath, constrained_paths, normalize, schema_types
from ._spec import Contract, SpecDocument, load_spec

__all__ = [
    "WHOLE_BATCH_FAULTS",
    "ExpectedError",
    "InvalidBatch",
    "apply_fault",
    "fault_targets",
    "invalid_batches",
]

WHOLE_BATCH_FAULTS = ("too_many", "not_a_list", "empty", "malformed_json")
# Candidate wrong-type values, each with its own JSON type; the first whose type the schema does not
# allow is used (a string that is not numeric, so lax servers cannot coerce it).
_WRONG_TYPE: tuple[tuple[str, Any], ...] = (
    ("string", "not-a-number"),
    ("integer", 12345),
    ("array", ["not", "a", "scalar"]),
)
_PATTERN_CANDIDATES = ("!!", "", "not valid!", "zz", "0", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "-1.-1", "a" * 300)


@dataclass(frozen=True)
class ExpectedError:
    """What the server must answer: HTTP status, and where known the pointer, code and detail."""

    status: int
    pointer: str | None = None
    code: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class InvalidBatch:
    """A request body the server must reject; unpacks as ``(batch, expected_errors)``."""

    batch: Any
    expected_errors: tuple[ExpectedError, ...]
    description: str
    index: int | None = None
    target: ConstrainedPath | None = None
    raw: bytes | None = None  # send these bytes instead of ``json.dumps(batch)``
    valid_batch: list[Order] = field(default_factory=list)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.batch, self.expected_errors))

    def content(self) -> bytes:
        return self.raw if self.raw is not None else json.dumps(self.batch).encode()


def fault_targets(spec: SpecDocument) -> list[ConstrainedPath]:
    """Every constrained path of one order the fault generator can break (upsert ``id`` included)."""
    return constrained_paths(spec.order_schema)


def _node_at(schema: Any, segments: tuple[str, ...]) -> dict[str, Any]:
    node = normalize(schema)
    for seg in segments:
        if seg == ITEM:
            node = normalize(node.get("items", {}))
        elif seg.startswith(BRANCH):
            branches = node.get("oneOf") or node.get("anyOf") or []
            node = normalize(
                {
                    "allOf": [
                        {k: v for k, v in node.items() if k not in ("oneOf", "anyOf")},
                        branches[int(seg[1:])],
                    ]
                }
            )
        else:
            node = normalize((node.get("properties") or {}).get(seg, {}))
    return node


def _violating_value(node: dict[str, Any], kind: str, current: Any) -> Any:
    kinds = schema_types(node)
    integral = "integer" in kinds and "number" not in kinds
    step: float = 1 if integral else 0.5
    if kind == "type":
        return next(
            v for t, v in _WRONG_TYPE if t not in kinds and not (t == "integer" and "number" in kinds)
        )
    if kind == "enum":
        values = node["enum"]
        if all(isinstance(v, str) for v in values if v is not None):
            return "not-a-valid-" + str(values[0] if values else "value")
        return 987654321
    if kind == "const":
        return "not-" + str(node["const"])
    if kind == "minimum":
        return node["minimum"] - step
    if kind == "maximum":
        return node["maximum"] + step
    if kind in ("exclusiveMinimum", "exclusiveMaximum"):
        return node[kind]
    if kind == "minLength":
        return "x" * (int(node["minLength"]) - 1)
    if kind == "maxLength":
        return "x" * (int(node["maxLength"]) + 1)
    if kind == "pattern":
        pattern = re.compile(str(node["pattern"]))
        return next(c for c in _PATTERN_CANDIDATES if pattern.search(c) is None)
    if kind == "minItems":
        return list(current)[: int(node["minItems"]) - 1]
    if kind == "maxItems":
        items = list(current) or [{}]
        return items + [copy.deepcopy(items[0]) for _ in range(int(node["maxItems"]) + 1 - len(items))]
    raise ValueError(f"no fault for keyword {kind!r}")


def apply_fault(order: Order, schema: Any, target: ConstrainedPath) -> Order:
    """A copy of ``order`` (which contains ``target``'s path) that violates exactly ``target``."""
    broken = copy.deepcopy(order)
    concrete = [0 if s == ITEM else s for s in target.segments if not s.startswith(BRANCH)]
    parent: Any = broken
    for seg in concrete[:-1]:
        parent = parent[seg]
    if not concrete:
        raise ValueError("whole-order faults are not field faults")
    last = concrete[-1]
    if target.kind == "required":
        del parent[last]
    else:
        node = _node_at(schema, target.segments)
        parent[last] = _violating_value(node, target.kind, parent[last])
    return broken


def _force_for(target: ConstrainedPath) -> tuple[str, ...]:
    if target.kind in ("maxItems", "minItems"):
        return (*target.segments, ITEM)
    return target.segments


def _expected_field(contract: Contract, index: int, target: ConstrainedPath) -> ExpectedError:
    return ExpectedError(status=400, pointer=contract.pointer(index, target.pointer))


def _whole_batch(contract: Contract, name: str, batch: list[Order]) -> InvalidBatch:
    errors = contract.errors
    if name == "too_many":
        spec = errors.get("too_many", {})
        detail = spec.get("detail")
        expected = ExpectedError(
            status=int(spec.get("status", 400)),
            pointer=spec.get("pointer", contract.whole_batch_pointer),
            code=spec.get("code"),
            detail=detail.format(max=contract.max_items, count=len(batch)) if detail else None,
        )
        return InvalidBatch(
            batch, (expected,), f"{len(batch)} orders (limit {contract.max_items})", valid_batch=batch
        )
    if name == "not_a_list":
        spec = errors.get("not_a_list", {})
        expected = ExpectedError(
            int(spec.get("status", 400)), spec.get("pointer"), spec.get("code"), spec.get("detail")
        )
        return InvalidBatch(batch[0], (expected,), "a single object instead of a list", valid_batch=batch[:1])
    if name == "empty":
        return InvalidBatch([], (ExpectedError(400),), f"empty list (minimum {contract.min_items})")
    text = json.dumps(batch[:1])
    raw = text[: max(1, len(text) // 2)].encode()
    return InvalidBatch(batch[:1], (ExpectedError(400),), "malformed JSON (truncated body)", raw=raw)


def invalid_batches(
    integration_ids: Sequence[int],
    *,
    spec: SpecDocument | None = None,
    targets: Sequence[ConstrainedPath] | None = None,
    whole_batch: Sequence[str] = (),
    max_size: int | None = None,
    order_id_prefix: str = "",
) -> st.SearchStrategy[InvalidBatch]:
    """Invalid batches: a valid batch with one fault at a drawn index and constrained path.

    ``targets`` restricts the paths (default: all of ``fault_targets``); ``whole_batch`` adds the named
    whole-batch faults from ``WHOLE_BATCH_FAULTS``. The batch stays within the size limit.
    """
    doc = spec if spec is not None else load_spec()
    contract = doc.contract
    ids = list(integration_ids)
    paths = list(targets) if targets is not None else fault_targets(doc)
    unknown = set(whole_batch) - set(WHOLE_BATCH_FAULTS)
    if unknown:
        raise ValueError(f"unknown whole-batch faults {sorted(unknown)}; known: {WHOLE_BATCH_FAULTS}")
    plain = order_strategy(doc, ids)

    def keys(token: str, n: int) -> list[str]:
        return [f"{order_id_prefix}{token}-{i}" for i in range(n)]

    @st.composite
    def field_fault(draw: st.DrawFn) -> InvalidBatch:
        target = draw(st.sampled_from(paths))
        size = draw(batch_sizes(contract, None, max_size))
        index = draw(st.integers(0, size - 1))
        templates = draw(st.lists(plain, min_size=1, max_size=min(size, 3)))
        integrations = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=min(size, 4)))
        token = draw(st.text(alphabet="0123456789abcdef", min_size=8, max_size=8))
        batch = build_batch(contract, templates, integrations, keys(token, size))
        forced = draw(order_strategy(doc, ids, force=_force_for(target)))
        for path in contract.upsert_key:
            _copy_pointer(batch[index], forced, path)
        valid = [*batch[:index], forced, *batch[index + 1 :]]
        broken = [*batch[:index], apply_fault(forced, doc.order_schema, target), *batch[index + 1 :]]
        return InvalidBatch(
            broken,
            (_expected_field(contract, index, target),),
            f"order [{index}] of {size}: {target}",
            index=index,
            target=target,
            valid_batch=valid,
        )

    @st.composite
    def batch_fault(draw: st.DrawFn) -> InvalidBatch:
        name = draw(st.sampled_from(list(whole_batch)))
        size = contract.max_items + 1 if name == "too_many" else 1
        templates = draw(st.lists(plain, min_size=1, max_size=2))
        integrations = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=min(size, 4)))
        token = draw(st.text(alphabet="0123456789abcdef", min_size=8, max_size=8))
        return _whole_batch(contract, name, build_batch(contract, templates, integrations, keys(token, size)))

    options = ([field_fault()] if paths else []) + ([batch_fault()] if whole_batch else [])
    if not options:
        raise ValueError("nothing to generate: no targets and no whole-batch faults")
    return st.one_of(options)


def _copy_pointer(source: Order, target: Order, pointer: str) -> None:
    node: Any = source
    for part in pointer.split("/")[1:]:
        node = node[part]
    set_pointer(target, pointer, node)
