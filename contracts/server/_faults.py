"""Catalogue of deliberately broken behaviours the reference server can switch on (``--fault NAME``).

Each fault is a small conditional at the place of the behaviour it breaks; the set of active faults
travels in :class:`~contracts.server.ServerSettings` as a frozen set.  See ``docs/faults.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

__all__ = ["FAULTS", "Faults", "UnknownFaultError", "parse_faults"]

Faults = frozenset[str]

FAULTS: Mapping[str, str] = MappingProxyType(
    {
        "no_upsert": "POST /orders always inserts a new order, even when the upsert key already exists",
        "upsert_ignores_integration": "the upsert key is order_id only (integration id ignored)",
        "no_batch_limit": "batches of more than 100 orders are accepted",
        "limit_off_by_one": "a batch of 101 orders is accepted (102 is rejected)",
        "partial_commit": "on a failing order, the valid orders before it are written anyway",
        "pointer_index_off_by_one": "error pointers name the order at index+1",
        "pointer_without_path": "error pointers stop at /data/attributes/[i] (no field path)",
        "results_reversed": "the 201 data array is in reverse request order",
        "id_as_string": "the 201 data ids are strings instead of integers",
        "integer_id_accepted": "an integer `id` in a request item is accepted instead of rejected",
        "no_conflict_detection": "no processing claims, and check-then-write races so that concurrent "
        "identical batches create duplicate orders",
        "no_auth": "requests without (or with wrong) credentials are served as the demo account",
        "foreign_integration_accepted": "integrations of another account (or unknown ones) are accepted",
        "order_id_change_allowed": "an order targeted by `id` may change its order_id",
        "status_200": "POST /orders answers 200 instead of 201",
        "delete_noop": "DELETE answers 204 but deletes nothing",
        "patch_ignores_fields": "PATCH answers 200 but stores nothing",
        "list_ignores_filters": "GET /orders ignores every filter parameter",
        "pagination_repeats": "the next-page cursor repeats the last order of the current page",
        "pagination_skips": "the next-page cursor skips the first order of the next page",
        "errors_without_array": 'error bodies are {"error": "..."} instead of {"errors": [...]}',
    }
)


class UnknownFaultError(ValueError):
    """A fault name that is not in :data:`FAULTS`."""

    def __init__(self, name: str) -> None:
        self.name = name
        known = ", ".join(sorted(FAULTS))
        super().__init__(f"unknown fault {name!r}; known faults: {known}")


def parse_faults(names: Iterable[str]) -> Faults:
    """Validate fault names (also accepts comma-separated values) and return them as a frozen set."""
    result: set[str] = set()
    for raw in names:
        for name in raw.split(","):
            name = name.strip()
            if not name:
                continue
            if name not in FAULTS:
                raise UnknownFaultError(name)
            result.add(name)
    return frozenset(result)
