"""The typed, frozen contract of one batch-upsert API, as stated by its spec's ``x-contract`` block.

Every consumer (codegen, reference server, strategies, rules, runner, client checks) takes a ``Contract``;
none of them reads ``x-contract`` itself. Field meanings are documented in docs/x-contract.md.
"""

from __future__ import annotations

import base64
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from ._pointer import MISSING, join_pointer, pointer_get, split_pointer

__all__ = [
    "ROLES",
    "Role",
    "AsyncOperation",
    "AuthRules",
    "BatchRules",
    "BoundOperation",
    "Conflict",
    "Contract",
    "DocumentedError",
    "ErrorRules",
    "KeyRules",
    "ListRules",
    "Ownership",
    "Processing",
    "ResourceRules",
    "TenantHeader",
]

Role = Literal["batch_write", "read_one", "list", "update", "delete", "operation_status", "operation_list"]
ROLES: tuple[Role, ...] = (
    "batch_write",
    "read_one",
    "list",
    "update",
    "delete",
    "operation_status",
    "operation_list",
)


@dataclass(frozen=True)
class BoundOperation:
    """An operation of the spec bound to a role: its operationId, method, path template and raw node."""

    role: Role
    operation_id: str
    method: str  # upper case
    path: str  # path template as written under `paths`, e.g. /orders/{id}
    node: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def path_parameters(self) -> tuple[str, ...]:
        return tuple(re.findall(r"\{([^}/]+)\}", self.path))

    def url_path(self, **values: Any) -> str:
        """The path with its ``{name}`` parameters filled in (values are percent-encoded)."""
        path = self.path
        for name in self.path_parameters:
            path = path.replace("{" + name + "}", quote(str(values[name]), safe=""))
        return path


@dataclass(frozen=True)
class BatchRules:
    items: str  # pointer of the list in the request body; "" = the body is the list
    min_items: int
    max_items: int | None  # None: no documented limit
    atomic: bool
    result_order: Literal["request", "unordered"]
    duplicate_keys: Literal["reject", "collapse", "last_wins"]

    @property
    def wrapped(self) -> bool:
        return self.items != ""

    def items_of(self, body: Any) -> list[Any] | None:
        """The list of items inside a request body, or None when the body does not have that shape."""
        found = pointer_get(body, self.items, None)
        return found if isinstance(found, list) else None

    def wrap(self, items: list[Any]) -> Any:
        """A request body holding ``items`` where the contract expects them."""
        body: Any = items
        for token in reversed(self.items_tokens):
            body = {token: body}
        return body

    @property
    def items_tokens(self) -> tuple[str, ...]:
        return split_pointer(self.items)


@dataclass(frozen=True)
class KeyRules:
    members: tuple[str, ...]
    defaults: Mapping[str, Any]
    explicit_id: str | None
    request_id_type: Literal["string", "integer"]
    response_id_type: Literal["string", "integer"]
    immutable: tuple[str, ...]
    scope: Literal["account", "global"]
    existing: Literal["update", "reuse"]

    def key_of(self, item: Any) -> tuple[Any, ...]:
        """The item's key values (a member's default when it is absent; None when absent without default)."""
        values = []
        for member in self.members:
            value = pointer_get(item, member, MISSING)
            if value is MISSING or value is None:
                value = self.defaults.get(member)
            values.append(value)
        return tuple(values)


@dataclass(frozen=True)
class AsyncOperation:
    id: str
    status: str
    resources: str
    resource_status: str | None
    resource_errors: str | None
    statuses: tuple[str, ...]
    terminal: tuple[str, ...]
    succeeded: tuple[str, ...]
    resource_succeeded: tuple[str, ...]  # statuses of one resource meaning its item was stored
    complete_within_seconds: float


@dataclass(frozen=True)
class Processing:
    mode: Literal["synchronous", "asynchronous"]
    results: str | None  # synchronous: pointer of the per-item results in the success answer
    result_id: str  # inside a result / operation resource: the stored item's id
    readable_within_seconds: float
    operation: AsyncOperation | None

    @property
    def asynchronous(self) -> bool:
        return self.mode == "asynchronous"


@dataclass(frozen=True)
class ResourceRules:
    item: str  # pointer of the stored item in a read-one answer
    id: str  # pointer of the id inside a stored item


_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class DocumentedError:
    name: str
    status: int
    code: str | None
    detail: str
    pointer: str | None = None  # whole-request location
    member: str | None = None  # item member the error is located at
    header: str | None = None

    @property
    def placeholders(self) -> frozenset[str]:
        names = set()
        for _text, name, _spec, _conv in _FORMATTER.parse(self.detail):
            if name:
                names.add(re.split(r"[.\[]", name, maxsplit=1)[0])
        return frozenset(names)

    def render(self, **values: Any) -> str:
        """The detail with its placeholders filled in; an unknown placeholder stays as written."""
        try:
            return self.detail.format(**values)
        except (KeyError, IndexError, AttributeError, ValueError, TypeError):
            return self.detail


@dataclass(frozen=True)
class ErrorRules:
    errors_at: str  # pointer of the error list in an error answer
    code: str | None
    detail: str
    status: str | None
    style: Literal["pointer", "message_path", "index"]
    member: str | None  # pointer style: the member holding the location
    header_member: str | None
    template: str | None  # "{index}" and "{path}"
    whole_batch: str | None
    nested_index: Literal["unbracketed", "bracketed"]
    path_style: Literal["pointer", "dotted"]
    index_member: str | None
    documented: Mapping[str, DocumentedError]

    def path_text(self, path: tuple[str | int, ...]) -> str:
        """``path`` inside one item written the way this API writes it (``/a/0/b`` or ``.a.0.b``)."""
        if self.path_style == "dotted":
            return "".join(f".{token}" for token in path)
        if self.nested_index == "bracketed":
            return "".join(f"/[{t}]" if isinstance(t, int) else join_pointer((t,)) for t in path)
        return join_pointer(path)

    def locate(self, index: int, path: tuple[str | int, ...] = ()) -> str:
        """How this API names item ``index`` (and ``path`` inside it): a pointer or a message prefix."""
        if self.template is None:
            return ""
        return self.template.format(index=index, path=self.path_text(path))

    def index_of(self, error: Any) -> int | None:
        """The failing item's index stated by one error object (None when it names none)."""
        if self.index_member is not None:
            value = pointer_get(error, self.index_member, None)
            if type(value) is int:
                return value
        if self.template is None:
            return None
        text = pointer_get(error, self.member, None) if self.style == "pointer" and self.member else None
        if self.style == "message_path":
            text = pointer_get(error, self.detail, None)
        if not isinstance(text, str):
            return None
        head, _, tail = self.template.partition("{index}")
        pattern = re.escape(head) + r"(\d+)"
        found = (
            re.match(pattern, text) if self.style != "pointer" else re.fullmatch(pattern + ".*", text, re.S)
        )
        digits = found.group(1) if found else ""
        return int(digits) if digits.isascii() and 0 < len(digits) <= 18 else None

    def errors_of(self, body: Any) -> list[Any]:
        found = pointer_get(body, self.errors_at, None)
        return found if isinstance(found, list) else []

    def envelope(self, errors: list[Any]) -> Any:
        """An error answer holding ``errors`` where the contract puts them (the list itself for "")."""
        body: Any = errors
        for token in reversed(split_pointer(self.errors_at)):
            body = {token: body}
        return body

    def get(self, name: str) -> DocumentedError | None:
        return self.documented.get(name)


@dataclass(frozen=True)
class TenantHeader:
    name: str
    format: Literal["uuid", "string"]
    required: bool
    error: str | None


@dataclass(frozen=True)
class AuthRules:
    scheme_name: str
    kind: Literal["basic", "bearer", "api_key"]
    header: str  # the header carrying the credentials
    prefix: str | None  # Basic / Bearer / the apiKey prefix word; None: the raw key
    headers: tuple[TenantHeader, ...]

    def credentials_header(self, username: str, password: str = "") -> tuple[str, str]:
        """``(header, value)`` that authenticates ``username``/``password`` (or the key in ``username``)."""
        if self.kind == "basic":
            token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
            return self.header, f"Basic {token}"
        value = f"{self.prefix} {username}" if self.prefix else username
        return self.header, value


@dataclass(frozen=True)
class Conflict:
    status: int
    code: str | None
    detail: str
    pointer: str | None
    retryable: bool


@dataclass(frozen=True)
class Ownership:
    member: str
    error: DocumentedError


@dataclass(frozen=True)
class ListRules:
    pagination: Literal["link_cursor", "page"]
    results: str
    filters: Mapping[str, str]


@dataclass(frozen=True)
class Contract:
    """Everything the suite knows about one API of the family, read once from its spec."""

    dialect: str
    title: str
    version: str
    spec_name: str  # file name of the spec
    spec_path: Path | None
    spec_sha256: str
    document: Mapping[str, Any] = field(repr=False, compare=False)  # the parsed spec; never mutate
    package: str | None
    client_name: str | None
    operations: Mapping[Role, BoundOperation]
    batch: BatchRules
    key: KeyRules
    processing: Processing
    resource: ResourceRules
    errors: ErrorRules
    auth: AuthRules
    conflict: Conflict | None
    ownership: Ownership | None
    listing: ListRules | None
    base_path: str  # path part of the spec's local server URL (e.g. /v1), "" when none

    def operation(self, role: Role) -> BoundOperation:
        """The operation bound to ``role``; KeyError naming the role when the spec binds none."""
        try:
            return self.operations[role]
        except KeyError:
            raise KeyError(f"{self.dialect}: x-contract.operations binds no operation to {role!r}") from None

    def has(self, role: Role) -> bool:
        return role in self.operations

    def member(self, dotted: str) -> Any:
        """The x-contract member ``dotted`` (e.g. ``batch.max_items``) as the spec writes it, for reports that
        show where a promise comes from; KeyError when the block has no such member."""
        node: Any = self.document.get("x-contract")
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise KeyError(dotted)
            node = node[part]
        return node

    @property
    def batch_write(self) -> BoundOperation:
        return self.operations["batch_write"]
