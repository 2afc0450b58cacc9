"""The contract model: one typed, frozen ``Contract`` read from a spec's ``x-contract`` block.

The bottom layer of orders-contract. It imports nothing else of the project; codegen, the reference server,
strategies, rules, runner and client checks all take a ``Contract`` from here, and no other code reads
``x-contract``. The vocabulary is published as ``spec/x-contract.schema.json`` and described in
docs/x-contract.md.
"""

from ._load import (
    ContractError,
    ContractMissing,
    contract_from_document,
    load_contract,
    load_document,
    packaged_spec,
    packaged_specs,
    resolve_spec,
)
from ._model import (
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
    TenantHeader,
)
from ._pointer import MISSING, deref, escape_token, join_pointer, pointer_get, pointer_set, split_pointer
from ._schema import ContractFinding, validate_block, vocabulary_schema

__all__ = [
    "MISSING",
    "AsyncOperation",
    "AuthRules",
    "BatchRules",
    "BoundOperation",
    "Conflict",
    "Contract",
    "ContractError",
    "ContractMissing",
    "ContractFinding",
    "DocumentedError",
    "ErrorRules",
    "KeyRules",
    "ListRules",
    "Ownership",
    "Processing",
    "ResourceRules",
    "TenantHeader",
    "contract_from_document",
    "deref",
    "escape_token",
    "join_pointer",
    "load_contract",
    "load_document",
    "packaged_spec",
    "packaged_specs",
    "pointer_get",
    "pointer_set",
    "resolve_spec",
    "split_pointer",
    "validate_block",
    "vocabulary_schema",
]
