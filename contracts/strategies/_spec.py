"""A spec as the strategies see it: the ``Contract`` (from ``contracts.contract``, the only reader of
``x-contract``) plus ``$ref`` dereferencing and the schemas of one batch item."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..contract import Contract, ContractError, load_contract, pointer_get, split_pointer
from ._schema import normalize, schema_types

__all__ = ["Contract", "ContractError", "SpecDocument", "load_spec"]

JSON = Any
_ANNOTATIONS = frozenset({"description", "title", "example", "examples", "deprecated", "$comment"})


@dataclass
class SpecDocument:
    """A parsed OpenAPI document with ``$ref`` resolution, its ``Contract`` and the batch item schema."""

    contract: Contract
    _deref_cache: dict[str, JSON] = field(default_factory=dict, repr=False)
    strategy_cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def path(self) -> Path | None:
        return self.contract.spec_path

    @cached_property
    def doc(self) -> dict[str, Any]:
        """A private deep copy of the document (callers such as Schemathesis may change what they get)."""
        return copy.deepcopy(dict(self.contract.document))

    def resolve(self, ref: str) -> JSON:
        found = pointer_get(self.contract.document, ref, None)
        if found is None:
            raise ContractError(f"spec has nothing at {ref}")
        return found

    def deref(self, node: JSON, *, _stack: tuple[str, ...] = ()) -> JSON:
        """A copy of ``node`` with every ``$ref`` replaced by its target (recursive refs stop at depth 1)."""
        if isinstance(node, list):
            return [self.deref(item, _stack=_stack) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node and isinstance(node["$ref"], str):
            ref = node["$ref"]
            if ref in _stack:
                return {}
            target = self.deref(self.resolve(ref), _stack=(*_stack, ref))
            siblings = {
                k: self.deref(v, _stack=_stack)
                for k, v in node.items()
                if k != "$ref" and k not in _ANNOTATIONS
            }
            if not siblings:
                return target
            return {"allOf": [target, siblings]} if isinstance(target, dict) else target
        return {k: self.deref(v, _stack=_stack) for k, v in node.items()}

    def schema(self, name: str) -> JSON:
        """Component schema ``name``, fully dereferenced (cached)."""
        if name not in self._deref_cache:
            self._deref_cache[name] = self.deref({"$ref": f"#/components/schemas/{name}"})
        return self._deref_cache[name]

    def operation(self, operation_id: str) -> tuple[str, str, dict[str, Any]]:
        """``(method, path, operation object)`` of ``operation_id``."""
        for path, item in self.contract.document.get("paths", {}).items():
            for method, op in (item or {}).items():
                if isinstance(op, dict) and op.get("operationId") == operation_id:
                    return method.upper(), path, op
        raise ContractError(f"spec has no operation with operationId {operation_id!r}")

    def request_schema(self, operation_id: str) -> JSON:
        """The dereferenced application/json request body schema of ``operation_id``."""
        _, _, op = self.operation(operation_id)
        try:
            raw = op["requestBody"]["content"]["application/json"]["schema"]
        except (KeyError, TypeError):
            raise ContractError(f"{operation_id} has no application/json request body schema") from None
        return self.deref(raw)

    @cached_property
    def batch_schema(self) -> JSON:
        """The whole request body schema of the batch operation (the list, or the object holding it)."""
        schema = self.request_schema(self.contract.batch_write.operation_id)
        if not isinstance(schema, dict):
            raise ContractError("the batch operation's request body schema is not an object")
        return schema

    @cached_property
    def list_schema(self) -> JSON:
        """The schema of the list of items (at ``x-contract.batch.items`` inside the body)."""
        node = normalize(self.batch_schema)
        for token in split_pointer(self.contract.batch.items):
            node = normalize((node.get("properties") or {}).get(token))
        if "array" not in schema_types(node):
            where = self.contract.batch.items or "the body"
            raise ContractError(f"the batch request body schema has no array at {where!r}")
        return node

    @cached_property
    def order_schema(self) -> JSON:
        """Dereferenced schema of one batch item."""
        items = self.list_schema.get("items")
        if not isinstance(items, dict):
            raise ContractError("the batch request body's list has no `items` schema")
        return items

    def member_schema(self, pointer: str) -> dict[str, Any]:
        """The normalized schema of ``pointer`` inside one item (``{}`` when the schema does not say)."""
        node = normalize(self.order_schema)
        for token in split_pointer(pointer):
            if "array" in schema_types(node) and token.isdigit():
                node = normalize(node.get("items"))
            else:
                node = normalize((node.get("properties") or {}).get(token))
        return node


def load_spec(source: str | Path | None = None) -> SpecDocument:
    """The spec at a path or shipped under a name (default: the first packaged spec), with its contract."""
    return SpecDocument(load_contract(source))
