"""Hypothesis strategies for the orders batch API, derived from the spec (importable by other teams).

>>> from contracts.strategies import load_spec, valid_batches, invalid_batches
>>> spec = load_spec()
>>> batches = valid_batches([7, 739283], spec=spec)          # lists of 1..100 valid orders
>>> faulty = invalid_batches([7], spec=spec, whole_batch=["too_many"])  # (batch, expected_errors)
"""

from __future__ import annotations

from ._faults import (
    WHOLE_BATCH_FAULTS,
    ExpectedError,
    InvalidBatch,
    apply_fault,
    fault_targets,
    invalid_batches,
)
from ._orders import batch_sizes, build_batch, set_pointer, valid_batches, valid_orders
from ._schema import ConstrainedPath, constrained_paths, normalize
from ._spec import DEFAULT_SPEC_PATH, Contract, ContractError, SpecDocument, load_spec
from ._values import value_strategy

__all__ = [
    "DEFAULT_SPEC_PATH",
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
    "fault_targets",
    "invalid_batches",
    "load_spec",
    "normalize",
    "set_pointer",
    "valid_batches",
    "valid_orders",
    "value_strategy",
]
