"""Turning spec names (operationIds, schema keys, parameter names) into safe Python identifiers."""

from __future__ import annotations

import keyword
import re
import unicodedata

__all__ = [
    "RESERVED_CLASS_NAMES",
    "RUNTIME_EXPORTS",
    "class_name",
    "client_for_package",
    "method_name",
    "operation_method_name",
    "package_for_spec",
    "unique",
]

# What the generated package's `_runtime.py` defines and exports (rendered into its `__all__`).
RUNTIME_EXPORTS = (
    "ApiError",
    "BatchSizeError",
    "ChunkError",
    "ErrorDetail",
    "OperationFailed",
    "OperationTimeout",
    "PageLimitError",
    "RawResponse",
    "RequestValidationError",
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


_HTTP_WORDS = frozenset({"get", "post", "put", "patch", "delete", "head", "options"})
# First words that already say what a method does: kept as they are by `operation_method_name`.
VERBS = frozenset(
    "get list create update delete retrieve remove add set put patch post cancel check validate announce "
    "register start stop test search find fetch upsert import export send download upload".split()
)


def operation_method_name(operation_id: str, http_method: str) -> str:
    """Readable method names for long vendor operationIds (a deterministic rule, documented in README).

    An operationId of three or more ``-``-separated segments where a segment other than the first and the
    last is an HTTP method (``sc-public-v3-scp-get-get_parcel_by_tracking_number``) is shortened to the
    segments after the last such method segment: ``get_parcel_by_tracking_number``. When that name does
    not start with a verb (``all_parcels``, ``connection``), the HTTP method is put in front
    (``get_all_parcels``, ``delete_connection``). Any other operationId is only turned into snake case
    (``upsertOrders`` → ``upsert_orders``). Clashes get a numeric suffix later (``unique``).
    """
    segments = [s for s in operation_id.split("-") if s]
    methods = [i for i, s in enumerate(segments) if s.lower() in _HTTP_WORDS and 0 < i < len(segments) - 1]
    if len(segments) < 3 or not methods:
        return method_name(operation_id)
    tail = method_name("_".join(segments[methods[-1] + 1 :]))
    if tail.split("_", 1)[0] not in VERBS:
        tail = f"{segments[methods[-1]].lower()}_{tail}"
    return tail


def unique(name: str, taken: set[str] | frozenset[str]) -> str:
    """`name`, or `name2`, `name3`, ... whichever is not taken (deterministic)."""
    if name not in taken:
        return name
    counter = 2
    while f"{name}{counter}" in taken:
        counter += 1
    return f"{name}{counter}"


def package_for_spec(stem: str) -> str:
    """The one rule mapping a spec file name to a package: `acme-orders-v3` → `acme_orders`.

    A trailing `openapi` word (`acme-v3-returns-openapi`) and then a trailing version token (`-v3`,
    `_v10`) are dropped: `acme_v3_returns`. The contract's `codegen.package` or `--package` override.
    """
    base = re.sub(r"[-_.]?openapi$", "", stem, flags=re.IGNORECASE) or stem
    base = re.sub(r"[-_.]v\d+$", "", base)
    return method_name(base, fallback="spec")


def client_for_package(package: str) -> str:
    """`acme_orders` → `OrdersClient`, `acme_v3_parcel_documents` → `ParcelDocumentsClient`:
    the words after a version token, else after the first word (the vendor), else the only word."""
    words = [w for w in package.split("_") if w]
    versions = [i for i, w in enumerate(words) if re.fullmatch(r"v\d+", w)]
    if versions and versions[-1] < len(words) - 1:
        words = words[versions[-1] + 1 :]
    elif len(words) > 1:
        words = words[1:]
    return class_name("_".join(words), fallback="Api") + "Client"
