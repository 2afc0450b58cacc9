"""Load a spec (a file, or one shipped with the package) and read its ``x-contract`` into a ``Contract``.

This module is the only code that knows where ``x-contract`` lives (the root of the OpenAPI document).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from ._members import member_findings
from ._model import (
    ROLES,
    AsyncOperation,
    AuthRules,
    BatchRules,
    BoundOperation,
    Conflict,
    Contract,
    DocumentedError,
    ErrorRules,
    KeyRules,
    ListRules,
    Ownership,
    Processing,
    ResourceRules,
    Role,
    TenantHeader,
)
from ._schema import BLOCK_POINTER, ContractFinding, validate_block

__all__ = [
    "ContractError",
    "ContractMissing",
    "contract_from_document",
    "load_contract",
    "load_document",
    "packaged_spec",
    "packaged_specs",
    "resolve_spec",
]

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
DEFAULT_SPEC = "sendcloud-orders-v3.yaml"


class ContractError(ValueError):
    """The spec cannot be read or its contract is invalid; ``str()`` is one line, ``findings`` all of it."""

    def __init__(self, message: str, findings: tuple[ContractFinding, ...] = ()) -> None:
        super().__init__(message)
        self.findings = findings


class ContractMissing(ContractError):
    """The document states no contract at all (e.g. a vendor spec): not an error for every reader."""


def packaged_specs() -> dict[str, Path]:
    """The specs shipped with the package: file name → path (JSON Schemas excluded)."""
    folder = resources.files(__package__).joinpath("specs")
    found = {}
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith((".yaml", ".yml", ".json")) and not name.endswith(".schema.json"):
            found[name] = Path(str(entry))
    return dict(sorted(found.items()))


def packaged_spec(name: str = DEFAULT_SPEC) -> Path:
    specs = packaged_specs()
    for candidate in (name, f"{name}.yaml", f"{name}.yml", f"{name}.json"):
        if candidate in specs:
            return specs[candidate]
    raise ContractError(f"no packaged spec named {name!r}; shipped specs: {', '.join(specs) or 'none'}")


def resolve_spec(source: str | Path | None = None) -> Path:
    """A spec path from a path, a packaged spec's name (with or without extension), or None (the default)."""
    if source is None:
        return packaged_spec()
    path = Path(source)
    if path.exists() or len(path.parts) > 1:
        return path
    try:
        return packaged_spec(str(source))
    except ContractError:
        return path


def load_document(path: Path) -> tuple[dict[str, Any], bytes]:
    """Parse a YAML or JSON OpenAPI file; ContractError with one line when it cannot be read or parsed."""
    try:
        raw = path.read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ContractError(f"cannot read spec {path}: {reason}; pass an existing OpenAPI file") from None
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document = json.loads(raw) if path.suffix == ".json" else yaml.load(raw, Loader=loader)  # noqa: S506
    except (yaml.YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ContractError(f"spec {path} is not valid YAML/JSON{where}") from None
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise ContractError(f"spec {path} is not an OpenAPI document (no `paths` mapping)")
    return document, raw


def load_contract(source: str | Path | None = None) -> Contract:
    """The contract of a spec file or packaged spec (cached per file content)."""
    path = resolve_spec(source)
    try:
        stat = path.stat()
    except (OSError, ValueError):
        stat = None
    key = (
        str(path.resolve()) if stat else str(path),
        stat.st_mtime_ns if stat else 0,
        stat.st_size if stat else 0,
    )
    return _load_cached(*key)


@lru_cache(maxsize=32)
def _load_cached(path_text: str, _mtime: int, _size: int) -> Contract:
    path = Path(path_text)
    document, raw = load_document(path)
    return contract_from_document(document, name=path.name, raw=raw, path=path)


def contract_from_document(
    document: Mapping[str, Any], *, name: str = "spec", raw: bytes | None = None, path: Path | None = None
) -> Contract:
    """Validate the document's ``x-contract`` and build the typed ``Contract`` (else ContractError)."""
    block = document.get("x-contract")
    if block is None:
        raise ContractMissing(
            f"{name}: no x-contract block at the document root; add one (see docs/x-contract.md)",
            (ContractFinding(BLOCK_POINTER, "missing"),),
        )
    findings = validate_block(block)
    if not findings:
        findings = _cross_checks(document, block)
    if findings:
        first = findings[0]
        more = f" (and {len(findings) - 1} more; run `orders-contract lint`)" if len(findings) > 1 else ""
        raise ContractError(f"{name}: x-contract is invalid at {first}{more}", tuple(findings))
    data = raw if raw is not None else json.dumps(document, sort_keys=True, default=str).encode()
    return _build(document, block, name=name, sha=hashlib.sha256(data).hexdigest(), path=path)


def _operations_by_id(document: Mapping[str, Any]) -> dict[str, tuple[str, str, Mapping[str, Any]]]:
    found = {}
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, Mapping):
            continue
        for method in _METHODS:
            node = item.get(method)
            if isinstance(node, Mapping) and isinstance(node.get("operationId"), str):
                found[node["operationId"]] = (method.upper(), str(path), node)
    return found


def _cross_checks(document: Mapping[str, Any], block: Mapping[str, Any]) -> list[ContractFinding]:
    """What the JSON Schema cannot say: operationIds exist, named errors exist, the auth scheme exists."""
    findings = []
    known = _operations_by_id(document)
    for role, operation_id in block["operations"].items():
        if operation_id not in known:
            where = f"{BLOCK_POINTER}/operations/{role}"
            findings.append(ContractFinding(where, f"no operation has operationId {operation_id!r}"))
    if block["processing"]["mode"] == "asynchronous" and "operation_status" not in block["operations"]:
        where = f"{BLOCK_POINTER}/operations"
        findings.append(ContractFinding(where, "asynchronous processing needs an operation_status operation"))
    findings.extend(_operation_checks(block["processing"]))
    findings.extend(_whole_value_members(block))
    members = member_findings(document, block, known, BLOCK_POINTER)
    findings.extend(ContractFinding(where, message) for where, message in members)
    if block["batch"].get("max_items", block["batch"]["min_items"]) < block["batch"]["min_items"]:
        message = "is below min_items: no batch could ever be accepted"
        findings.append(ContractFinding(f"{BLOCK_POINTER}/batch/max_items", message))
    documented = block["errors"].get("documented", {})
    references = [("ownership/error", (block.get("ownership") or {}).get("error"))]
    for position, header in enumerate(block["auth"].get("headers", [])):
        references.append((f"auth/headers/{position}/error", header.get("error")))
    for where, name in references:
        if name is not None and name not in documented:
            message = f"names the error {name!r}, which errors.documented does not define"
            findings.append(ContractFinding(f"{BLOCK_POINTER}/{where}", message))
    schemes = ((document.get("components") or {}).get("securitySchemes")) or {}
    if block["auth"]["scheme"] not in schemes:
        message = f"{block['auth']['scheme']!r} is not in components.securitySchemes"
        findings.append(ContractFinding(f"{BLOCK_POINTER}/auth/scheme", message))
    else:
        scheme = schemes[block["auth"]["scheme"]]
        kind = (scheme.get("type"), str(scheme.get("scheme", "")).lower(), scheme.get("in"))
        if kind[:2] not in {("http", "basic"), ("http", "bearer")} and kind[::2] != ("apiKey", "header"):
            message = "only HTTP basic, HTTP bearer and apiKey-in-header schemes are supported"
            findings.append(
                ContractFinding(f"/components/securitySchemes/{block['auth']['scheme']}", message)
            )
    return findings


_MEMBER_POINTERS = (
    ("errors", "code"), ("errors", "detail"), ("errors", "status"), ("errors", "location", "member"),
    ("errors", "location", "header_member"), ("errors", "location", "index_member"),
    ("processing", "operation", "resource_status"), ("processing", "operation", "resource_errors"),
)  # fmt: skip


def _whole_value_members(block: Mapping[str, Any]) -> list[ContractFinding]:
    """Pointers to a member of one error or resource: "" (the whole of it) cannot be written."""
    findings = []
    for path in _MEMBER_POINTERS:
        node: Any = block
        for name in path:
            node = node.get(name) if isinstance(node, Mapping) else None
        if node == "":
            message = 'must name a member (such as "/message"), not the whole value ("")'
            findings.append(ContractFinding(f"{BLOCK_POINTER}/{'/'.join(path)}", message))
    return findings


def _operation_checks(processing: Mapping[str, Any]) -> list[ContractFinding]:
    """An asynchronous operation's members name parts of the answer, and its statuses are consistent."""
    operation = processing.get("operation")
    if processing["mode"] != "asynchronous" or operation is None:
        return []
    where = f"{BLOCK_POINTER}/processing"
    findings = []
    for member, value in [("result_id", processing.get("result_id"))] + [
        (f"operation/{name}", operation.get(name)) for name in ("id", "status", "resources")
    ]:
        if value == "":
            message = 'must name a member ("/id"), not the whole answer ("")'
            findings.append(ContractFinding(f"{where}/{member}", message))
    statuses, terminal = operation["statuses"], operation["terminal"]
    for name, values, within in (
        ("terminal", terminal, statuses),
        ("succeeded", operation["succeeded"], terminal),
    ):
        for position, status in enumerate(values):
            if status not in within:
                message = f"{status!r} is not one of {', '.join(map(repr, within))}"
                findings.append(ContractFinding(f"{where}/operation/{name}/{position}", message))
    if all(status in terminal for status in statuses):
        message = "needs a status that is not terminal (the status of an accepted, unfinished operation)"
        findings.append(ContractFinding(f"{where}/operation/statuses", message))
    return findings


def _base_path(document: Mapping[str, Any]) -> str:
    servers = [
        s for s in document.get("servers") or [] if isinstance(s, Mapping) and isinstance(s.get("url"), str)
    ]
    local = [s for s in servers if urlsplit(s["url"]).hostname in {"127.0.0.1", "localhost"}]
    chosen = (local or servers or [{"url": ""}])[0]
    return urlsplit(str(chosen["url"])).path.rstrip("/")


def _auth(document: Mapping[str, Any], block: Mapping[str, Any]) -> AuthRules:
    name = block["scheme"]
    scheme = document["components"]["securitySchemes"][name]
    headers = tuple(
        TenantHeader(h["name"], h.get("format", "string"), bool(h.get("required", False)), h.get("error"))
        for h in block.get("headers", [])
    )
    if scheme.get("type") == "http":
        if str(scheme.get("scheme")).lower() == "basic":
            return AuthRules(name, "basic", "Authorization", "Basic", headers)
        return AuthRules(name, "bearer", "Authorization", "Bearer", headers)
    return AuthRules(name, "api_key", str(scheme["name"]), block.get("prefix"), headers)


def _documented(block: Mapping[str, Any]) -> dict[str, DocumentedError]:
    return {
        name: DocumentedError(
            name=name,
            status=int(entry["status"]),
            code=entry.get("code"),
            detail=str(entry["detail"]),
            pointer=entry.get("pointer"),
            member=entry.get("member"),
            header=entry.get("header"),
        )
        for name, entry in sorted((block.get("documented") or {}).items())
    }


def _build(
    document: Mapping[str, Any], block: Mapping[str, Any], *, name: str, sha: str, path: Path | None
) -> Contract:
    known = _operations_by_id(document)
    operations: dict[Role, BoundOperation] = {}
    for role in ROLES:
        operation_id = block["operations"].get(role)
        if operation_id is not None:
            method, template, node = known[operation_id]
            operations[role] = BoundOperation(role, operation_id, method, template, node)
    batch, key, processing, errors = block["batch"], block["key"], block["processing"], block["errors"]
    location = errors["location"]
    documented = _documented(errors)
    operation = processing.get("operation")
    info = document.get("info") or {}
    codegen = block.get("codegen") or {}
    conflict, ownership, listing = block.get("conflict"), block.get("ownership"), block.get("list")
    resource = block.get("resource") or {}
    return Contract(
        dialect=block["dialect"],
        title=str(info.get("title", name)),
        version=str(info.get("version", "")),
        spec_name=name,
        spec_path=path,
        spec_sha256=sha,
        document=document,
        package=codegen.get("package"),
        client_name=codegen.get("client"),
        operations=operations,
        batch=BatchRules(
            items=batch.get("items", ""),
            min_items=int(batch["min_items"]),
            max_items=batch.get("max_items"),
            atomic=bool(batch["atomic"]),
            result_order=batch.get("result_order", "request"),
            duplicate_keys=batch.get("duplicate_keys", "reject"),
        ),
        key=KeyRules(
            members=tuple(key["members"]),
            defaults=dict(key.get("defaults") or {}),
            explicit_id=key.get("explicit_id"),
            request_id_type=(key.get("id_types") or {}).get("request", "string"),
            response_id_type=(key.get("id_types") or {}).get("response", "string"),
            immutable=tuple(key.get("immutable") or ()),
            scope=key.get("scope", "account"),
            existing=key["existing"],
        ),
        processing=Processing(
            mode=processing["mode"],
            results=processing.get("results"),
            result_id=processing.get("result_id", "/id"),
            readable_within_seconds=float(processing.get("readable_within_seconds", 10)),
            operation=None
            if operation is None
            else AsyncOperation(
                id=operation["id"],
                status=operation["status"],
                resources=operation["resources"],
                resource_status=operation.get("resource_status"),
                resource_errors=operation.get("resource_errors"),
                statuses=tuple(operation["statuses"]),
                terminal=tuple(operation["terminal"]),
                succeeded=tuple(operation["succeeded"]),
                resource_succeeded=tuple(operation.get("resource_succeeded") or operation["succeeded"]),
                complete_within_seconds=float(operation.get("complete_within_seconds", 60)),
            ),
        ),
        resource=ResourceRules(item=resource.get("item", ""), id=resource.get("id", "/id")),
        errors=ErrorRules(
            errors_at=errors["list"],
            code=errors.get("code"),
            detail=errors["detail"],
            status=errors.get("status"),
            style=location["style"],
            member=location.get("member"),
            header_member=location.get("header_member"),
            template=location.get("template"),
            whole_batch=location.get("whole_batch"),
            nested_index=location.get("nested_index", "unbracketed"),
            path_style=location.get("path_style", "pointer"),
            index_member=location.get("index_member"),
            documented=documented,
        ),
        auth=_auth(document, block["auth"]),
        conflict=None
        if conflict is None
        else Conflict(
            status=int(conflict["status"]),
            code=conflict.get("code"),
            detail=str(conflict["detail"]),
            pointer=conflict.get("pointer"),
            retryable=bool(conflict.get("retryable", False)),
        ),
        ownership=None
        if ownership is None
        else Ownership(ownership["member"], documented[ownership["error"]]),
        listing=None
        if listing is None
        else ListRules(
            pagination=listing["pagination"],
            results=listing.get("results", ""),
            filters=dict(listing.get("filters") or {}),
        ),
        base_path=_base_path(document),
    )
