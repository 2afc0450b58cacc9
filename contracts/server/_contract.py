"""The parts of the spec's ``x-contract`` block the server obeys (batch limits, pointer template, messages).

Loaded once at start from the spec file; the built-in defaults equal the agreed shape (SPEC_SHAPE.md) and
are used only when the spec file is absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ContractError", "ContractRules", "default_spec_path", "load_contract"]

_SPEC_NAME = "sendcloud-orders-v3.yaml"


class ContractError(ValueError):
    """The spec's x-contract block is missing something the server needs."""


@dataclass(frozen=True)
class ContractRules:
    min_items: int = 1
    max_items: int = 100
    pointer_template: str = "/data/attributes/[{index}]{path}"
    whole_batch_pointer: str = "/data/attributes/"
    not_a_list_code: str = "non_field_errors"
    not_a_list_detail: str = "Wrong request format, expected list of objects"
    too_many_detail: str = "Orders list should have at most {max} items, not {count}"
    unknown_integration_detail: str = "Integration with id {id} does not exist"
    order_id_changed_detail: str = "Order id {order_id} cannot be changed"
    duplicate_key_detail: str = (
        "Order id {order_id} with integration {integration_id} already appears at index {first} of this batch"
    )
    invalid_partner_detail: str = "Sendcloud-Partner-Id must be a UUID"
    conflict_pointer: str = "/data"
    conflict_detail: str = "We are still processing a previous request. Please try again in a moment."
    source: str = "built-in defaults"

    def pointer(self, index: int, path: str = "") -> str:
        return self.pointer_template.format(index=index, path=path)


def default_spec_path() -> Path:
    return Path(__file__).resolve().parents[2] / "spec" / _SPEC_NAME


def _get(block: Mapping[str, Any], *keys: str) -> Any:
    node: Any = block
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def load_contract(spec_path: str | Path | None = None) -> ContractRules:
    """Read ``x-contract`` of ``POST /orders`` from the spec; defaults if no spec file exists."""
    path = Path(spec_path) if spec_path else default_spec_path()
    stamp = path.stat().st_mtime_ns if path.exists() else 0
    return _load_contract(path, bool(spec_path), stamp)


@cache
def _load_contract(path: Path, explicit: bool, _stamp: int) -> ContractRules:
    spec_path = path if explicit else None
    if not path.exists():
        if spec_path:
            raise ContractError(f"spec file {path} does not exist; pass an existing file or omit the option")
        return ContractRules()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - safe loader
    block = _get(spec, "paths", "/orders", "post", "x-contract")
    if not isinstance(block, Mapping):
        raise ContractError(f"{path}: paths./orders.post has no x-contract block")
    defaults = ContractRules()
    found = {
        "min_items": _get(block, "batch", "min_items"),
        "max_items": _get(block, "batch", "max_items"),
        "pointer_template": _get(block, "error_pointer", "template"),
        "whole_batch_pointer": _get(block, "error_pointer", "whole_batch"),
        "not_a_list_code": _get(block, "errors", "not_a_list", "code"),
        "not_a_list_detail": _get(block, "errors", "not_a_list", "detail"),
        "too_many_detail": _get(block, "errors", "too_many", "detail"),
        "unknown_integration_detail": _get(block, "errors", "unknown_integration", "detail"),
        "order_id_changed_detail": _get(block, "errors", "order_id_changed", "detail"),
        "duplicate_key_detail": _get(block, "errors", "duplicate_key", "detail"),
        "invalid_partner_detail": _get(block, "errors", "invalid_partner_id", "detail"),
        "conflict_pointer": _get(block, "conflict", "pointer"),
        "conflict_detail": _get(block, "conflict", "detail"),
    }
    values: dict[str, Any] = {k: v for k, v in found.items() if v is not None}
    for key, value in values.items():
        if type(value) is not type(getattr(defaults, key)):
            raise ContractError(f"{path}: x-contract value for {key} has the wrong type: {value!r}")
    if "{index}" not in values.get("pointer_template", defaults.pointer_template):
        raise ContractError(f"{path}: x-contract error_pointer.template must contain {{index}}")
    return ContractRules(**values, source=str(path))
