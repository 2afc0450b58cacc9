"""What the client checks need from a spec: its ``Contract``, the OpenAPI object and matchable operations.

The contract (batch shape and limits, error locations, auth scheme, conflict answer, asynchronous
operations) comes from :mod:`contracts.contract` — this module never reads ``x-contract`` itself.
openapi-core validates requests and answers against the same document.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from openapi_core import OpenAPI

from contracts.contract import (
    BatchRules,
    Conflict,
    Contract,
    ErrorRules,
    join_pointer,
    load_contract,
    split_pointer,
)

__all__ = ["ClientSpec", "Operation", "build_client_spec", "client_spec_for", "load_client_spec"]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
BodyPath = tuple[int | str, ...]


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, with a regex that matches its path below the API base path."""

    method: str  # upper case
    template: str  # e.g. /orders/{id}
    operation_id: str
    pattern: re.Pattern[str]
    node: dict[str, Any]
    path_item: dict[str, Any]
    role: str | None = None  # the role the contract binds this operation to (batch_write, ...), if any


@dataclass(frozen=True)
class ClientSpec:
    """The loaded spec: its contract, openapi-core's view of it, and its operations ready to match."""

    contract: Contract
    document: dict[str, Any]
    api: OpenAPI
    operations: tuple[Operation, ...]
    base_path: str  # path part of the local server URL ("" when the paths start at the root)
    host_url: str  # scheme + host of the local server with its default port

    @property
    def batch(self) -> BatchRules:
        return self.contract.batch

    @property
    def errors(self) -> ErrorRules:
        return self.contract.errors

    @property
    def conflict(self) -> Conflict | None:
        """The documented 'still processing' answer; None when the API documents none."""
        return self.contract.conflict

    @property
    def min_items(self) -> int:
        return self.contract.batch.min_items

    @property
    def max_items(self) -> int | None:
        return self.contract.batch.max_items

    def by_role(self, role: str) -> Operation | None:
        return next((op for op in self.operations if op.role == role), None)

    @property
    def batch_operation(self) -> Operation:
        found = self.by_role("batch_write")
        assert found is not None  # a Contract always binds batch_write
        return found

    @property
    def batch_url_path(self) -> str:
        """Where batches are sent, below the server's origin (base path included)."""
        return self.base_path + self.batch_operation.template

    def resolve(self, node: Any) -> Any:
        """Follow local `$ref`s until a node without one is reached (bounded to 32 hops)."""
        for _ in range(32):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node
            target: Any = self.document
            for token in split_pointer(node["$ref"]):
                target = target[token]
            node = target
        raise ValueError("reference chain longer than 32 hops")

    def match(self, method: str, spec_path: str) -> tuple[Operation | None, list[Operation]]:
        """The operation for method + path (or None) and every operation whose path matches."""
        same_path = [op for op in self.operations if op.pattern.fullmatch(spec_path)]
        found = next((op for op in same_path if op.method == method.upper()), None)
        return found, same_path

    @staticmethod
    def path_values(op: Operation, spec_path: str) -> list[str]:
        """The values of the path parameters of ``op`` in ``spec_path``, in template order."""
        found = op.pattern.fullmatch(spec_path)
        return list(found.groupdict().values()) if found else []

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

    def item_path(self, path: BodyPath) -> tuple[int, BodyPath] | None:
        """``(index, path inside the item)`` when ``path`` (inside a batch body) lies in one item."""
        tokens = self.batch.items_tokens
        if len(path) <= len(tokens) or tuple(str(p) for p in path[: len(tokens)]) != tokens:
            return None
        index = path[len(tokens)]
        return (index, path[len(tokens) + 1 :]) if isinstance(index, int) else None

    def whole_batch_pointer(self) -> str:
        """How a problem with the batch as a whole is located: the API's own whole-batch pointer when its
        errors are located by pointer, else the RFC 6901 pointer of the list in the request body."""
        errors = self.errors
        if errors.style == "pointer" and errors.whole_batch is not None:
            return errors.whole_batch
        return self.batch.items

    def body_pointer(self, path: BodyPath, *, batch: bool) -> str:
        """Where ``path`` of a request body is. In a batch body: the way the API's own errors point (e.g.
        ``/body/[1]/items/0``) when it locates them by pointer; otherwise (message
        prefixes, index members, any other body) a plain RFC 6901 pointer into the request body."""
        if not batch:
            return join_pointer(path)
        located = self.item_path(path)
        if located is None:
            tokens = self.batch.items_tokens
            if tuple(str(p) for p in path) == tokens[: len(path)]:  # the list, or what should hold it
                return self.whole_batch_pointer()
            return join_pointer(path)
        if self.errors.style == "pointer" and self.errors.template is not None:
            return self.errors.locate(*located)
        return join_pointer(path)

    def message_prefix(self, path: BodyPath, *, batch: bool) -> str:
        """For an API that names the failing item in its error messages (``orders[1].line_items: ...``):
        the same prefix for ``path`` of a batch body, so a client's report reads like the API's answer;
        "" for any other API or path."""
        errors = self.errors
        located = self.item_path(path) if batch else None
        if errors.style != "message_path" or errors.template is None or located is None:
            return ""
        return errors.locate(*located)


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(regex)


def _local_host(document: Mapping[str, Any], base_path: str) -> str:
    """Scheme + host of the server whose path is ``base_path`` (a local one first), variables filled."""
    servers = [s for s in document.get("servers") or [] if isinstance(s, Mapping) and "url" in s]
    urls = []
    for server in servers:
        url = str(server["url"])
        for name, var in (server.get("variables") or {}).items():
            url = url.replace("{" + name + "}", str(var.get("default", "")))
        urls.append(url)
    local = [u for u in urls if urlsplit(u).hostname in {"127.0.0.1", "localhost"}]
    chosen = next((u for u in [*local, *urls] if urlsplit(u).path.rstrip("/") == base_path), None)
    if chosen is None:
        return "http://127.0.0.1:8000"
    parts = urlsplit(chosen)
    return f"{parts.scheme}://{parts.netloc}"


def build_client_spec(contract: Contract) -> ClientSpec:
    document = dict(contract.document)
    roles = {bound.operation_id: role for role, bound in contract.operations.items()}
    operations = []
    for template, item in sorted((document.get("paths") or {}).items()):
        for method in _METHODS:
            if method in item:
                node = item[method]
                op_id = str(node.get("operationId", f"{method} {template}"))
                pattern = _pattern(template)
                operations.append(
                    Operation(method.upper(), template, op_id, pattern, node, item, roles.get(op_id))
                )
    return ClientSpec(
        contract=contract,
        document=document,
        api=OpenAPI.from_dict(document),
        operations=tuple(operations),
        base_path=contract.base_path,
        host_url=_local_host(document, contract.base_path),
    )


_BUILT: dict[tuple[str, str], ClientSpec] = {}
_BUILT_LOCK = threading.Lock()


def client_spec_for(contract: Contract) -> ClientSpec:
    """The checks' view of ``contract`` (built once per spec content: openapi-core's setup is slow)."""
    key = (contract.spec_name, contract.spec_sha256)
    with _BUILT_LOCK:
        found = _BUILT.get(key)
    if found is not None:
        return found
    built = build_client_spec(contract)
    with _BUILT_LOCK:
        if len(_BUILT) >= 8:
            _BUILT.pop(next(iter(_BUILT)))
        return _BUILT.setdefault(key, built)


def load_client_spec(source: str | Path | Contract | None = None) -> ClientSpec:
    """The checks' view of a spec file, a packaged spec's name, a loaded ``Contract`` or (None) the
    default spec. ``contracts.contract.ContractError`` (one line) when it cannot be read."""
    contract = source if isinstance(source, Contract) else load_contract(source)
    return client_spec_for(contract)
