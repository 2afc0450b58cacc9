"""Stage 2c: what the spec's contract (``contracts.contract.Contract``) adds to the IR.

Batch helpers, the documented conflict, how error answers locate a failing item, asynchronous operations
to wait for. Without a contract (a vendor spec), the generic fallbacks apply: the only operation with an
array body is the batch, its ``maxItems`` the limit, errors are read as ``errors[].source.pointer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from contracts.contract import split_pointer

from ._findings import Finding, join, warning
from ._ir_ops import RESERVED_PARAM_NAMES, Operation, array_field, deref

if TYPE_CHECKING:
    from contracts.contract import Contract

__all__ = [
    "Batch",
    "Conflict",
    "ErrorShape",
    "Polling",
    "batch_of",
    "conflict_of",
    "error_shape",
    "polling_of",
]


@dataclass(frozen=True)
class Batch:
    method_name: str
    body_arg: str
    item_model: str
    min_items: int
    max_items: int | None
    result_field: str | None  # synchronous results: the list member of the answer
    result_item_model: str | None
    items_field: str | None  # the list sits under this member of the body; None: the body is the list
    body_model: str | None


@dataclass(frozen=True)
class Conflict:
    status: int
    pointer: str | None
    detail: str
    code: str | None


@dataclass(frozen=True)
class ErrorShape:
    """Where an error answer keeps its problems, and how a problem names the failing item."""

    errors_at: str
    detail_at: str
    code_at: str | None
    status_at: str | None
    title_at: str | None
    pointer_at: str | None
    header_at: str | None
    parameter_at: str | None
    index_at: str | None
    style: Literal["pointer", "message_path"]
    head: str | None  # text before the item index ("/data/x/[" or "orders[")
    middle: str  # text between the index and the path inside the item ("]")
    path_style: Literal["pointer", "dotted"]


@dataclass(frozen=True)
class Polling:
    status_method: str
    operation_model: str
    id_at: str
    status_at: str
    resources_at: str
    resource_status_at: str | None
    resource_errors_at: str | None
    terminal: tuple[str, ...]
    succeeded: tuple[str, ...]
    timeout: float


DEFAULT_SHAPE = ErrorShape(
    "/errors", "/detail", "/code", "/status", "/title", "/source/pointer", "/source/header",
    "/source/parameter", None, "pointer", None, "]", "pointer",
)  # fmt: skip


def _first_token(pointer: str | None) -> str | None:
    tokens = [t for t in split_pointer(pointer or "") if t]
    return tokens[0] if len(tokens) == 1 else None


def _body_arg(op: Operation, items_field: str | None) -> str:
    tail = items_field or op.method_name.rsplit("_", 1)[-1]
    used = {p.py_name for p in op.params}
    ok = tail.isidentifier() and tail.endswith("s") and tail not in RESERVED_PARAM_NAMES | used
    return tail if ok else "items"


def batch_of(
    doc: dict[str, Any], ops: list[Operation], contract: Contract | None, findings: list[Finding]
) -> Batch | None:
    """The batch operation: bound by the contract's ``batch_write`` role; without a contract the only
    operation whose JSON body is an array of a named model. Size limit: the contract's, else the body's
    ``maxItems``, else unknown (a warning; ``chunk_size`` becomes a required argument)."""
    if contract is not None and contract.has("batch_write"):
        bound = contract.batch_write
        op = next((o for o in ops if o.operation_id == bound.operation_id), None)
        if op is None or op.body_model is None:
            return None
        items_field = _first_token(contract.batch.items) if contract.batch.wrapped else None
        if contract.batch.wrapped and items_field is None:
            where = join("", "paths", bound.path, bound.method.lower(), "requestBody")
            findings.append(
                warning(where, "batch items deeper than one member: no batch helpers", rule="batch")
            )
            return None
        item_model = op.body_item_model
        if items_field is not None:
            field = array_field(doc, op.body_model, items_field)
            item_model = field[1] if field and field[0] == items_field else None
        if item_model is None:
            return None
        results = None
        if not contract.processing.asynchronous and op.success and op.success.model:
            wanted = _first_token(contract.processing.results)
            results = array_field(doc, op.success.model, wanted)
        return Batch(
            op.method_name, _body_arg(op, items_field), item_model, contract.batch.min_items,
            contract.batch.max_items, results[0] if results else None, results[1] if results else None,
            items_field, op.body_model,
        )  # fmt: skip
    lists = [o for o in ops if o.body_is_list and o.body_item_model]
    if len(lists) > 1:
        names = ", ".join(o.method_name for o in lists)
        message = f"several list-body operations ({names}) and no contract; no batch helpers emitted"
        findings.append(warning("/paths", message, rule="batch"))
    if len(lists) != 1:
        return None
    op = lists[0]
    assert op.body_item_model is not None and op.body_model is not None  # filtered above
    schema = deref(doc, {"$ref": f"#/components/schemas/{op.body_model}"})
    max_items, min_items = schema.get("maxItems"), schema.get("minItems", 1)
    if max_items is None:
        where = join("", "paths", op.path, op.http_method.lower(), "requestBody")
        message = "batch size limit unknown (no contract, no maxItems): chunk_size is required"
        findings.append(warning(where, message, rule="batch"))
    result = array_field(doc, op.success.model if op.success else None)
    return Batch(
        op.method_name, _body_arg(op, None), op.body_item_model, int(min_items),
        int(max_items) if max_items is not None else None, result[0] if result else None,
        result[1] if result else None, None, op.body_model,
    )  # fmt: skip


def conflict_of(contract: Contract | None) -> Conflict | None:
    if contract is None or contract.conflict is None or not contract.conflict.retryable:
        return None
    found = contract.conflict
    return Conflict(found.status, found.pointer, found.detail, found.code)


def error_shape(contract: Contract | None) -> ErrorShape:
    if contract is None:
        return DEFAULT_SHAPE
    rules = contract.errors
    head = middle = None
    if rules.template and "{index}" in rules.template:
        head, _, rest = rules.template.partition("{index}")
        middle = rest.partition("{path}")[0]
    if rules.style == "pointer":
        member, header, parameter = rules.member, rules.header_member, None
    else:
        member = header = parameter = None
    return ErrorShape(
        rules.errors_at, rules.detail, rules.code, rules.status, None, member, header, parameter,
        rules.index_member, "pointer" if rules.style == "pointer" else "message_path", head,
        middle if middle is not None else "", rules.path_style,
    )  # fmt: skip


def polling_of(ops: list[Operation], contract: Contract | None) -> Polling | None:
    """Asynchronous processing: the operation to poll and what its answer says."""
    if contract is None or not contract.processing.asynchronous or not contract.has("operation_status"):
        return None
    spec = contract.processing.operation
    bound = contract.operation("operation_status")
    status = next((o for o in ops if o.operation_id == bound.operation_id), None)
    if spec is None or status is None or status.success is None or status.success.model is None:
        return None
    path_params = [p for p in status.params if p.location == "path"]
    if len(path_params) != 1 or any(p.required for p in status.params if p.location != "path"):
        return None
    return Polling(
        status.method_name, status.success.model, spec.id, spec.status, spec.resources,
        spec.resource_status, spec.resource_errors, spec.terminal, spec.succeeded,
        spec.complete_within_seconds,
    )  # fmt: skip
