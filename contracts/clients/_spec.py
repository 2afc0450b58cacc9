"""What the client checks need from the spec: the OpenAPI object, operations, x-contract values."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from openapi_core import OpenAPI

__all__ = ["DEFAULT_SPEC_PATH", "ClientSpec", "Operation", "build_client_spec", "load_client_spec"]

DEFAULT_SPEC_PATH = Path(__file__).resolve().parents[2] / "spec" / "sendcloud-orders-v3.yaml"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, with a regex that matches its path below the API base path."""

    method: str  # upper case
    template: str  # e.g. /orders/{id}
    operation_id: str
    pattern: re.Pattern[str]
    node: dict[str, Any]
    path_item: dict[str, Any]


@dataclass(frozen=True)
class ClientSpec:
    """The loaded spec plus the few facts the client rules use (batch limits, conflict answer, ...)."""

    document: dict[str, Any]
    api: OpenAPI
    operations: tuple[Operation, ...]
    base_path: str  # path part of the local server URL, e.g. /api/v3
    host_url: str  # scheme + host of the local server with its default port
    min_items: int
    max_items: int
    conflict: dict[str, Any]
    pointer_template: str
    whole_batch_pointer: str

    def resolve(self, node: Any) -> Any:
        """Follow local `$ref`s until a node without one is reached (bounded to 32 hops)."""
        for _ in range(32):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node
            target: Any = self.document
            for token in node["$ref"].lstrip("#").split("/")[1:]:
                target = target[token.replace("~1", "/").replace("~0", "~")]
            node = target
        raise ValueError("reference chain longer than 32 hops")

    def match(self, method: str, spec_path: str) -> tuple[Operation | None, list[Operation]]:
        """The operation for method + path (or None) and every operation whose path matches."""
        same_path = [op for op in self.operations if op.pattern.fullmatch(spec_path)]
        found = next((op for op in same_path if op.method == method.upper()), None)
        return found, same_path

    def parameters(self, op: Operation, where: str) -> dict[str, dict[str, Any]]:
        """Resolved parameters of an operation located `where` (query/header/path), by name."""
        result: dict[str, dict[str, Any]] = {}
        for raw in [*op.path_item.get("parameters", []), *op.node.get("parameters", [])]:
            param = self.resolve(raw)
            if param.get("in") == where:
                result[param["name"]] = param
        return result

    def request_schema(self, op: Operation) -> dict[str, Any] | None:
        body = self.resolve(op.node.get("requestBody") or {})
        media = (body.get("content") or {}).get("application/json")
        if not isinstance(media, dict) or "schema" not in media:
            return None
        schema = self.resolve(media["schema"])
        return schema if isinstance(schema, dict) else None


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(regex)


def _local_server(document: dict[str, Any]) -> tuple[str, str]:
    servers = document.get("servers") or [{"url": "http://127.0.0.1:8000"}]
    chosen = next((s for s in servers if "127.0.0.1" in s["url"] or "localhost" in s["url"]), servers[0])
    url: str = chosen["url"]
    for name, var in (chosen.get("variables") or {}).items():
        url = url.replace("{" + name + "}", str(var.get("default", "")))
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")


def build_client_spec(document: dict[str, Any]) -> ClientSpec:
    operations = []
    for template, item in sorted((document.get("paths") or {}).items()):
        for method in _METHODS:
            if method in item:
                node = item[method]
                op_id = str(node.get("operationId", f"{method} {template}"))
                operations.append(Operation(method.upper(), template, op_id, _pattern(template), node, item))
    contract: dict[str, Any] = {}
    for op in operations:
        contract = op.node.get("x-contract") or contract
    batch = contract.get("batch", {})
    pointers = contract.get("error_pointer", {})
    host_url, base_path = _local_server(document)
    return ClientSpec(
        document=document,
        api=OpenAPI.from_dict(document),
        operations=tuple(operations),
        base_path=base_path,
        host_url=host_url,
        min_items=int(batch.get("min_items", 1)),
        max_items=int(batch.get("max_items", 100)),
        conflict=dict(contract.get("conflict", {})),
        pointer_template=str(pointers.get("template", "/data/attributes/[{index}]{path}")),
        whole_batch_pointer=str(pointers.get("whole_batch", "/data/attributes/")),
    )


@functools.lru_cache(maxsize=4)
def load_client_spec(path: str | None = None) -> ClientSpec:
    """Load (once per process) the spec file at `path`, by default the project's own spec."""
    spec_path = Path(path) if path else DEFAULT_SPEC_PATH
    with spec_path.open("rb") as handle:
        document = yaml.safe_load(handle)
    if not isinstance(document, dict):
        raise ValueError(f"{spec_path}: not an OpenAPI document (top level is not a mapping)")
    return build_client_spec(document)
