"""Hypothesis strategies for batch-order APIs, derived from a spec and its ``Contract`` (importable by
other teams).

>>> from contracts.strategies import load_spec, valid_batches, invalid_batches
>>> spec = load_spec()                                   # a path, or a packaged spec's name
>>> batches = valid_batches([7, 739283], spec=spec)      # lists of 1..max_items valid items
>>> faulty = invalid_batches([7], spec=spec, whole_batch=["not_a_list"])  # (body, expected_errors)

The first argument holds the values the caller owns at ``contract.ownership.member`` (empty when the
contract has no ownership member).
"""

from __future__ import annotations

from ._faults import (
    WELL_KNOWN_ERRORS,
    WHOLE_BATCH_FAULTS,
    ExpectedError,
    InvalidBatch,
    apply_fault,
    documented_error,
    expected_error,
    fault_targets,
    invalid_batches,
    path_of,
)
from ._orders import (
    UNBOUNDED_BATCH,
    batch_sizes,
    build_batch,
    id_member,
    mark_member,
    other_key_members,
    owned_member,
    set_pointer,
    valid_batches,
    valid_orders,
)
from ._schema import ConstrainedPath, constrained_paths, normalize
from ._spec import Contract, ContractError, SpecDocument, load_spec
from ._values import value_strategy

__all__ = [
    "UNBOUNDED_BATCH",
    "WELL_KNOWN_ERRORS",
    "WHOLE_BATCH_FAULTS",
    "ConstrainedPath",
    "Contract",
    "ContractError",
    "ExpectedError",
    "InvalidBatch",
    "SpecDocument",
    "apply_fault",
    "batch_sizes",
    "build_batch",
    "constrained_paths",
    "documented_error",
    "expected_error",
    "fault_targets",
    "id_member",
    "invalid_batches",
    "load_spec",
    "mark_member",
    "normalize",
    "other_key_members",
    "owned_member",
    "path_of",
    "set_pointer",
    "valid_batches",
    "valid_orders",
    "value_strategy",
]
