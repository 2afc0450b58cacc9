"""Stage 2: a small intermediate representation of a normalised spec (what the client templates need).

Operations come from `_ir_ops`, client options (auth, shared headers, webhooks, id types) from `_ir_auth`,
and what the spec's contract says (batch, conflict, error locations, asynchronous operations) from
`_ir_contract`. The contract is the typed ``contracts.contract.Contract``; a spec without one (a vendor
spec) gets the generic fallbacks.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._findings import Finding, join, warning
from ._ir_auth import HeaderOption, Security, Webhook, header_options, security, webhooks
from ._ir_contract import (
    Batch,
    Conflict,
    ErrorShape,
    Polling,
    batch_of,
    conflict_of,
    error_shape,
    polling_of,
)
from ._ir_ids import id_types
from ._ir_ops import RESERVED_PARAM_NAMES, Link, Operation, Pagination, Param, Response, build_operation
from ._naming import operation_method_name, unique
from ._walk import iter_operations

if TYPE_CHECKING:
    from contracts.contract import Contract

__all__ = [
    "RESERVED_PARAM_NAMES",
    "ApiIR",
    "Batch",
    "Conflict",
    "ErrorShape",
    "HeaderOption",
    "Link",
    "Operation",
    "Pagination",
    "Param",
    "Polling",
    "Response",
    "Security",
    "Webhook",
    "build_ir",
]

RESERVED_METHOD_NAMES = frozenset({"close", "aclose", "wait_for_operation"})


@dataclass(frozen=True)
class ApiIR:
    title: str
    version: str
    operations: tuple[Operation, ...]
    batch: Batch | None
    conflict: Conflict | None
    error_model: str | None
    errors: ErrorShape
    security: tuple[Security, ...]
    header_options: tuple[HeaderOption, ...]
    webhooks: tuple[Webhook, ...]
    polling: Polling | None
    id_carriers: dict[str, tuple[tuple[str, str], ...]]  # model → (member, method) its ids can be passed to

    @property
    def basic_auth(self) -> bool:
        return any(s.kind == "basic" for s in self.security)

    @property
    def model_names(self) -> tuple[str, ...]:
        names: set[str] = set()
        for op in self.operations:
            names.update(n for n in (op.body_model, op.body_item_model) if n)
            names.update(r.model for r in op.responses if r.model)
            if op.pagination and op.pagination.item_model:
                names.add(op.pagination.item_model)
        if self.batch:
            names.update(n for n in (self.batch.result_item_model, self.batch.item_model) if n)
        names.update(w.model for w in self.webhooks if w.model)
        if self.error_model:
            names.add(self.error_model)
        return tuple(sorted(names))

    def option(self, header: str) -> HeaderOption | None:
        return next((o for o in self.header_options if o.name == header), None)


def _dedupe_helpers(ops: list[Operation], taken: set[str]) -> list[Operation]:
    """Pagination iterators and `<batch>_chunked` / `_and_wait` helpers must not collide with methods."""
    taken.update(o.method_name + suffix for o in ops for suffix in ("_chunked", "_and_wait"))
    result = []
    for op in ops:
        if op.pagination is not None:
            name = unique(op.pagination.iter_name, taken)
            taken.add(name)
            op = dataclasses.replace(op, pagination=dataclasses.replace(op.pagination, iter_name=name))
        result.append(op)
    return result


def _with_id_types(ops: list[Operation], unions: dict[tuple[str, str], tuple[str, ...]]) -> list[Operation]:
    """Path parameters accept every id type the spec uses for the same resource (e.g. `int | str`)."""
    result = []
    for op in ops:
        params, notes = [], []
        for p in op.params:
            types = unions.get((op.method_name, p.name))
            if types:
                p = dataclasses.replace(p, annotation=" | ".join(types))
                notes.append(
                    f"``{p.py_name}`` accepts {' or '.join(types)}: answers of this API carry this id as "
                    f"{' and as '.join(types)}, so an id read from any of them can be passed as it is."
                )
            params.append(p)
        doc_text = op.docstring if not notes else op.docstring + "\n\n" + "\n".join(notes)
        result.append(dataclasses.replace(op, params=tuple(params), docstring=doc_text))
    return result


def _mark_idempotent(ops: list[Operation], batch: Batch | None, contract: Contract | None) -> list[Operation]:
    """A keyed batch write (update or reuse by key) is safe to repeat: retried like a PUT."""
    if batch is None or contract is None or not contract.key.members:
        return ops
    return [dataclasses.replace(o, idempotent=True) if o.method_name == batch.method_name else o for o in ops]


def build_ir(doc: dict[str, Any], contract: Contract | None = None) -> tuple[ApiIR, list[Finding]]:
    """Build the IR from a *normalised* spec; findings are warnings about what could not be inferred."""
    findings: list[Finding] = []
    ops: list[Operation] = []
    taken: set[str] = set(RESERVED_METHOD_NAMES)
    for path, method, item, op in iter_operations(doc):
        where = join("", "paths", path, method)
        operation_id = str(op.get("operationId") or "")
        if not operation_id:
            findings.append(
                warning(where, "no operationId; method named from HTTP method and path", rule="naming")
            )
        name = unique(operation_method_name(operation_id or f"{method} {path}", method), taken)
        taken.add(name)
        ops.append(build_operation(doc, path, method, item, op, name))
    ops = _dedupe_helpers(ops, taken)
    ids = id_types(doc, ops)
    ops = _with_id_types(ops, ids.unions)
    errors = Counter(r.model for o in ops for r in o.responses if r.model and not r.status.startswith("2"))
    error_model = sorted(errors.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] if errors else None
    prefixes = {contract.auth.scheme_name: contract.auth.prefix} if contract is not None else {}
    schemes = security(doc, prefixes, findings)
    tenant = tuple(h.name for h in contract.auth.headers) if contract is not None else ()
    batch = batch_of(doc, ops, contract, findings)
    ops = _mark_idempotent(ops, batch, contract)
    info = doc.get("info") or {}
    ir = ApiIR(
        title=str(info.get("title", "")),
        version=str(info.get("version", "")),
        operations=tuple(ops),
        batch=batch,
        conflict=conflict_of(contract),
        error_model=error_model,
        errors=error_shape(contract),
        security=schemes,
        header_options=header_options(
            doc, ops, tenant, {s.header for s in schemes}, {s.option for s in schemes}
        ),
        webhooks=webhooks(doc, findings),
        polling=polling_of(ops, contract),
        id_carriers=ids.carriers,
    )
    return ir, findings
