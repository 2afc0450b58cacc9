"""Turning spec names (operationIds, schema keys, parameter names) into safe Python identifiers."""

from __future__ import annotations

import keyword
import re
import unicodedata

__all__ = [
    "RESERVED_CLASS_NAMES",
    "RUNTIME_EXPORTS",
    "class_name",
    "method_name",
    "package_for_spec",
    "unique",
]

# What the generated package's `_runtime.py` defines and exports (rendered into its `__all__`).
RUNTIME_EXPORTS = (
    "ApiError",
    "BatchSizeError",
    "ChunkError",
    "ErrorDetail",
    "PageLimitError",
    "RetryPolicy",
    "UnexpectedResponse",
    "parse_pointer",
)

# Names the generated models module imports or defines itself; a schema with such a name is renamed.
RESERVED_CLASS_NAMES = frozenset(
    {
        "Annotated",
        "Any",
        "AwareDatetime",
        "BaseModel",
        "ConfigDict",
        "Enum",
        "Field",
        "Literal",
        "RootModel",
        "StrEnum",
        "StrictBool",
        "StrictFloat",
        "StrictInt",
        "StrictStr",
        "AnyUrl",
        "UUID",
        "date",
        "datetime",
        "time",
        "timedelta",
        "Decimal",
    }
    # names the generated package defines next to the models
    | set(RUNTIME_EXPORTS)
)


def _words(text: str) -> list[str]:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    # split camelCase / PascalCase boundaries, then on anything not alphanumeric
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", ascii_text)
    spaced = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", " ", spaced)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]


def class_name(text: str, fallback: str = "Schema") -> str:
    """`order-items` → `OrderItems`, `ErrorObject` stays, `2fa` → `Schema2fa`."""
    name = "".join(w[:1].upper() + w[1:] for w in _words(text)) or fallback
    if name[0].isdigit():
        name = fallback + name
    if name in RESERVED_CLASS_NAMES or keyword.iskeyword(name):
        name += "Model"
    return name


def method_name(text: str, fallback: str = "operation") -> str:
    """`upsertOrders` → `upsert_orders`; `sc-public-v3-orders-get-list_orders` →
    `sc_public_v3_orders_get_list_orders`."""
    name = "_".join(w.lower() for w in _words(text)) or fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        name += "_"
    return name


def unique(name: str, taken: set[str] | frozenset[str]) -> str:
    """`name`, or `name2`, `name3`, ... whichever is not taken (deterministic)."""
    if name not in taken:
        return name
    counter = 2
    while f"{name}{counter}" in taken:
        counter += 1
    return f"{name}{counter}"


def package_for_spec(stem: str) -> str:
    """The one rule mapping a spec file name to a package: `sendcloud-orders-v3` → `sendcloud_orders`.

    A trailing version token (`-v3`, `_v10`) is dropped; `info.x-codegen-package` in the spec overrides.
    """
    base = re.sub(r"[-_.]v\d+$", "", stem)
    return method_name(base, fallback="spec")
