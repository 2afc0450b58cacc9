"""Load the OpenAPI document, resolve ``$ref``s and read the ``x-contract`` block of ``POST /orders``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

__all__ = ["DEFAULT_SPEC_PATH", "Contract", "ContractError", "SpecDocument", "load_spec"]

DEFAULT_SPEC_PATH = Path(__file__).resolve().parents[2] / "spec" / "sendcloud-orders-v3.yaml"

JSON = Any
_ANNOTATIONS = frozenset({"description", "title", "example", "examples", "deprecated", "$comment"})


class ContractError(ValueError):
    """The spec lacks something the suite needs; the message names the JSON pointer."""


def _pointer_get(doc: JSON, pointer: str) -> JSON:
    node = doc
    for raw in pointer.lstrip("#").split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise ContractError(f"spec has nothing at {pointer}")
    return node


def _dig(block: dict[str, Any], dotted: str) -> Any:
    node: Any = block
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ContractError(f"x-contract of POST /orders lacks `{dotted}`")
        node = node[part]
    return node


@dataclass(frozen=True)
class Contract:
    """The machine-readable promises of ``POST /orders`` (``x-contract``), as typed values."""

    raw: dict[str, Any]
    min_items: int
    max_items: int
    atomic: bool
    result_order: str
    duplicate_keys: str
    upsert_key: tuple[str, ...]
    explicit_id: str
    immutable: tuple[str, ...]
    request_id_type: str
    response_id_type: str
    pointer_template: str
    whole_batch_pointer: str
    nested_index: str
    errors: dict[str, dict[str, Any]]
    conflict: dict[str, Any]
    processing: str

    @classmethod
    def from_block(cls, block: dict[str, Any]) -> Contract:
        return cls(
            raw=block,
            min_items=int(_dig(block, "batch.min_items")),
            max_items=int(_dig(block, "batch.max_items")),
            atomic=bool(_dig(block, "batch.atomic")),
            result_order=str(_dig(block, "batch.result_order")),
            duplicate_keys=str(block.get("batch", {}).get("duplicate_keys", "reject")),
            upsert_key=tuple(_dig(block, "upsert.key")),
            explicit_id=str(_dig(block, "upsert.explicit_id")),
            immutable=tuple(_dig(block, "upsert.immutable")),
            request_id_type=str(_dig(block, "ids.request")),
            response_id_type=str(_dig(block, "ids.response")),
            pointer_template=str(_dig(block, "error_pointer.template")),
            whole_batch_pointer=str(_dig(block, "error_pointer.whole_batch")),
            nested_index=str(block.get("error_pointer", {}).get("nested_index", "unbracketed")),
            errors=dict(_dig(block, "errors")),
            conflict=dict(_dig(block, "conflict")),
            processing=str(block.get("processing", "synchronous")),
        )

    def pointer(self, index: int, path: str) -> str:
        """Error pointer for ``path`` (RFC 6901 inside one order, ``''`` = whole order) of item ``index``."""
        return self.pointer_template.format(index=index, path=path)

    @property
    def order_id_path(self) -> str:
        return self.upsert_key[0]

    @property
    def integration_path(self) -> str:
        return self.upsert_key[-1]


@dataclass
class SpecDocument:
    """A parsed OpenAPI document with ``$ref`` resolution and the contract of ``POST /orders``."""

    doc: dict[str, Any]
    path: Path | None = None
    _deref_cache: dict[str, JSON] = field(default_factory=dict, repr=False)
    strategy_cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    def resolve(self, ref: str) -> JSON:
        return _pointer_get(self.doc, ref)

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
        for path, item in self.doc.get("paths", {}).items():
            for method, op in item.items():
                if isinstance(op, dict) and op.get("operationId") == operation_id:
                    return method.upper(), path, op
        raise ContractError(f"spec has no operation with operationId {operation_id!r}")

    @cached_property
    def contract(self) -> Contract:
        _, _, op = self.operation("upsertOrders")
        block = op.get("x-contract")
        if not isinstance(block, dict):
            raise ContractError("POST /orders (upsertOrders) has no `x-contract` block")
        return Contract.from_block(block)

    @cached_property
    def order_schema(self) -> JSON:
        """Dereferenced schema of one request item (the batch's ``items``)."""
        batch = self.batch_schema
        items = batch.get("items")
        if not isinstance(items, dict):
            raise ContractError("the POST /orders request body is not an array schema with `items`")
        return items

    @cached_property
    def batch_schema(self) -> JSON:
        _, _, op = self.operation("upsertOrders")
        try:
            raw = op["requestBody"]["content"]["application/json"]["schema"]
        except (KeyError, TypeError):
            raise ContractError("POST /orders has no application/json request body schema") from None
        schema = self.deref(raw)
        while isinstance(schema, dict) and "items" not in schema and len(schema.get("allOf", [])) == 1:
            schema = schema["allOf"][0]
        if not isinstance(schema, dict):
            raise ContractError("the POST /orders request body schema is not an object")
        return schema


def load_spec(path: str | Path | None = None) -> SpecDocument:
    """Parse a YAML or JSON OpenAPI file (default: the project's ``spec/sendcloud-orders-v3.yaml``)."""
    target = Path(path) if path is not None else DEFAULT_SPEC_PATH
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContractError(f"cannot read spec {target}: {exc.strerror or exc}") from None
    try:
        doc = json.loads(text) if target.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ContractError(f"spec {target} is not valid YAML/JSON: {exc}") from None
    if not isinstance(doc, dict) or "paths" not in doc:
        raise ContractError(f"spec {target} is not an OpenAPI document (no `paths`)")
    return SpecDocument(doc=doc, path=target)
