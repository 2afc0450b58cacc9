"""Invalid batches with a known expected outcome: one schema-derived fault in one order, or a
whole-batch fault (too many orders, not an array, empty, malformed JSON)."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from ..contract import MISSING, Contract, DocumentedError, pointer_get, split_pointer
from ._orders import Order, batch_sizes, build_batch, order_strategy, owned_member, set_pointer
from ._schema import BRANCH, ITEM, ConstrainedPath, constrained_paths, normalize, schema_types
from ._spec import SpecDocument, load_spec

__all__ = [
    "WHOLE_BATCH_FAULTS",
    "ExpectedError",
    "InvalidBatch",
    "WELL_KNOWN_ERRORS",
    "apply_fault",
    "documented_error",
    "expected_error",
    "fault_targets",
    "invalid_batches",
    "path_of",
]

WHOLE_BATCH_FAULTS = ("too_many", "not_a_list", "empty", "malformed_json")
# Situation -> names a spec may give the documented error for it in x-contract.errors.documented.
WELL_KNOWN_ERRORS: dict[str, tuple[str, ...]] = {
    "too_many": ("too_many",),
    "empty": ("too_few", "empty_batch"),
    "not_a_list": ("not_a_list",),
    "malformed_json": ("malformed_json",),
    "too_large": ("too_large",),
    "duplicate_key": ("duplicate_key",),
    "immutable": ("immutable_changed",),
    "not_an_object": ("not_an_object",),
}
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
    """What the server must answer: HTTP status, and where known the location, code and detail.

    ``pointer`` is the location as the contract writes it (``contract.errors.locate``): an error pointer
    or a message prefix; ``index`` the failing item's index when one item is at fault."""

    status: int
    pointer: str | None = None
    code: str | None = None
    detail: str | None = None
    index: int | None = None


@dataclass(frozen=True)
class InvalidBatch:
    """A request body the server must reject; unpacks as ``(batch, expected_errors)``.

    ``batch`` is the whole request body (wrapped as the contract says); ``items`` its list of items when
    it has one; ``valid_batch`` the items before the fault was injected."""

    batch: Any
    expected_errors: tuple[ExpectedError, ...]
    description: str
    index: int | None = None
    target: ConstrainedPath | None = None
    raw: bytes | None = None  # send these bytes instead of ``json.dumps(batch)``
    valid_batch: list[Order] = field(default_factory=list)
    items: list[Any] | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.batch, self.expected_errors))

    def content(self) -> bytes:
        return self.raw if self.raw is not None else json.dumps(self.batch).encode()


def fault_targets(spec: SpecDocument) -> list[ConstrainedPath]:
    """Every constrained path of one item the fault generator can break (the explicit id included)."""
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


def path_of(target: ConstrainedPath) -> tuple[str | int, ...]:
    """The target's path inside one item, array items as index 0 (for ``contract.errors.locate``)."""
    return tuple(0 if s == ITEM else s for s in target.segments if not s.startswith(BRANCH))


def documented_error(contract: Contract, situation: str) -> DocumentedError | None:
    """The documented error the contract names for a well-known situation (see ``WELL_KNOWN_ERRORS``)."""
    for name in WELL_KNOWN_ERRORS.get(situation, (situation,)):
        found = contract.errors.get(name)
        if found is not None:
            return found
    return None


def expected_error(
    contract: Contract,
    documented: DocumentedError | None,
    *,
    status: int = 400,
    index: int | None = None,
    path: tuple[str | int, ...] | None = None,
    **values: Any,
) -> ExpectedError:
    """What a rejection must look like: the documented error's status, code and (when every placeholder
    is known) detail; located at item ``index`` (and ``path``) or where the documented error says."""
    errors = contract.errors
    location = None
    if documented is not None and documented.member is not None and path is None:
        path = tuple(int(t) if t.isascii() and t.isdigit() else t for t in split_pointer(documented.member))
    if index is not None and errors.template is not None:
        location = errors.locate(index, path or ())
    elif documented is not None and documented.pointer is not None and errors.style == "pointer":
        location = documented.pointer
    if documented is None:
        return ExpectedError(status, location, index=index)
    detail = documented.render(**values) if documented.placeholders <= set(values) else None
    return ExpectedError(documented.status, location, documented.code, detail, index=index)


def _whole_batch(contract: Contract, name: str, batch: list[Order]) -> InvalidBatch:
    wrap = contract.batch.wrap
    limits: dict[str, Any] = {"max": contract.batch.max_items, "min": contract.batch.min_items}
    if name == "too_many":
        expected = expected_error(contract, documented_error(contract, name), count=len(batch), **limits)
        if expected.pointer is None and contract.errors.style == "pointer":
            expected = dataclasses.replace(expected, pointer=contract.errors.whole_batch)
        what = f"{len(batch)} items (limit {contract.batch.max_items})"
        return InvalidBatch(wrap(batch), (expected,), what, valid_batch=batch, items=batch)
    if name == "not_a_list":
        expected = expected_error(contract, documented_error(contract, name))
        single: Any = batch[0]  # deliberately where the list belongs
        what = "a single object instead of a list"
        return InvalidBatch(wrap(single), (expected,), what, valid_batch=batch[:1])
    if name == "empty":
        expected = expected_error(contract, documented_error(contract, name), count=0, **limits)
        what = f"empty list (minimum {contract.batch.min_items})"
        return InvalidBatch(wrap([]), (expected,), what, items=[])
    expected = expected_error(contract, documented_error(contract, name))
    text = json.dumps(wrap(batch[:1]))
    raw = text[: max(1, len(text) // 2)].encode()
    return InvalidBatch(wrap(batch[:1]), (expected,), "malformed JSON (truncated body)", raw=raw)


def invalid_batches(
    owned: Sequence[Any],
    *,
    spec: SpecDocument | None = None,
    targets: Sequence[ConstrainedPath] | None = None,
    whole_batch: Sequence[str] = (),
    max_size: int | None = None,
    order_id_prefix: str = "",
) -> st.SearchStrategy[InvalidBatch]:
    """Invalid request bodies: a valid batch with one fault at a drawn index and constrained path.

    ``targets`` restricts the paths (default: all of ``fault_targets``); ``whole_batch`` adds the named
    whole-batch faults from ``WHOLE_BATCH_FAULTS`` (``too_many`` only when the contract has a limit). The
    batch stays within the size limit.
    """
    doc = spec if spec is not None else load_spec()
    contract = doc.contract
    ids = list(owned)
    paths = list(targets) if targets is not None else fault_targets(doc)
    unknown = set(whole_batch) - set(WHOLE_BATCH_FAULTS)
    if unknown:
        raise ValueError(f"unknown whole-batch faults {sorted(unknown)}; known: {WHOLE_BATCH_FAULTS}")
    if contract.batch.max_items is None:
        whole_batch = [name for name in whole_batch if name != "too_many"]
    plain = order_strategy(doc, ids)
    owners = st.lists(st.sampled_from(ids), min_size=1, max_size=4) if ids else st.just([])

    def keys(token: str, n: int) -> list[str]:
        return [f"{order_id_prefix}{token}-{i}" for i in range(n)]

    @st.composite
    def field_fault(draw: st.DrawFn) -> InvalidBatch:
        target = draw(st.sampled_from(paths))
        size = draw(batch_sizes(contract, None, max_size))
        index = draw(st.integers(0, size - 1))
        templates = draw(st.lists(plain, min_size=1, max_size=min(size, 3)))
        token = draw(st.text(alphabet="0123456789abcdef", min_size=8, max_size=8))
        batch = build_batch(contract, templates, draw(owners), keys(token, size))
        forced = draw(order_strategy(doc, ids, force=_force_for(target)))
        at = tuple(str(token) for token in path_of(target))
        for path in (*contract.key.members, owned_member(contract)):
            # Not a member the fault is at (or inside): the forced item holds it, the template may not.
            if path is not None and at[: len(tokens := split_pointer(path))] != tokens:
                _copy_pointer(batch[index], forced, path)
        valid = [*batch[:index], forced, *batch[index + 1 :]]
        broken = [*batch[:index], apply_fault(forced, doc.order_schema, target), *batch[index + 1 :]]
        expected = expected_error(contract, None, index=index, path=path_of(target))
        return InvalidBatch(
            contract.batch.wrap(broken),
            (expected,),
            f"item [{index}] of {size}: {target}",
            index=index,
            target=target,
            valid_batch=valid,
            items=broken,
        )

    @st.composite
    def batch_fault(draw: st.DrawFn) -> InvalidBatch:
        name = draw(st.sampled_from(list(whole_batch)))
        size = contract.batch.max_items + 1 if name == "too_many" and contract.batch.max_items else 1
        templates = draw(st.lists(plain, min_size=1, max_size=2))
        token = draw(st.text(alphabet="0123456789abcdef", min_size=8, max_size=8))
        return _whole_batch(contract, name, build_batch(contract, templates, draw(owners), keys(token, size)))

    options = ([field_fault()] if paths else []) + ([batch_fault()] if whole_batch else [])
    if not options:
        raise ValueError("nothing to generate: no targets and no whole-batch faults")
    return st.one_of(options)


def _copy_pointer(source: Order, target: Order, pointer: str) -> None:
    value = pointer_get(source, pointer, MISSING)
    if value is MISSING:
        if pointer_get(target, pointer, MISSING) is not MISSING:
            *parent, last = split_pointer(pointer)
            holder = pointer_get(target, tuple(parent), None)
            if isinstance(holder, dict):
                holder.pop(last, None)
        return
    set_pointer(target, pointer, copy.deepcopy(value))
