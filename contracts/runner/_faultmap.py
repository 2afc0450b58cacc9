"""Which rule must kill each catalogued fault of the reference server (one place, used by tests and bench).

One name per fault for every dialect: a fault shared by several dialects (``partial_commit``, ``no_auth``,
...) is killed by the same generic rule in each; which faults a dialect has is
``contracts.server.faults_for(contract)``."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = ["KILLED_BY", "server_options"]

KILLED_BY: Mapping[str, str] = MappingProxyType(
    {
        "no_upsert": "upsert.key",
        "upsert_ignores_key_member": "key.scope",
        "no_batch_limit": "batch.limit",
        "limit_off_by_one": "batch.limit",
        "partial_commit": "batch.atomic",
        "pointer_index_off_by_one": "error.pointer",
        "pointer_without_path": "error.pointer",
        "results_reversed": "batch.result_order",
        "id_as_string": "id.types",
        "integer_id_accepted": "id.types",
        "no_conflict_detection": "conflict.concurrent",
        "no_auth": "auth.required",
        "foreign_owned_accepted": "ownership.enforced",
        "order_id_change_allowed": "order_id.immutable",
        "status_200": "batch.accepts_valid",
        "delete_noop": "crud.lifecycle",
        "patch_ignores_fields": "crud.lifecycle",
        "list_ignores_filters": "list.filters",
        "pagination_repeats": "list.pagination",
        "pagination_skips": "list.pagination",
        "errors_without_array": "error.shape",
        "never_completes": "operation.completes",
        "loses_orders": "operation.completes",
        "updates_instead_of_reusing": "upsert.key",
        "key_ignores_source": "key.scope",
        "error_index_off_by_one": "error.pointer",
        "status_outside_enum": "operation.completes",
        "large_body_5xx": "body.robust",
        "resources_name_nothing": "operation.completes",
        "duplicates_under_concurrency": "durability.concurrent",
        "empty_batch_accepted": "batch.empty",
    }
)


def server_options(fault: str | None, spec: str | None = None) -> dict[str, Any]:
    """Keyword arguments for ``contracts.server.running_server`` to serve ``spec`` (a path or a packaged
    spec's name; default: the default spec) with ``fault`` switched on."""
    options: dict[str, Any] = {"faults": {fault} if fault else set()}
    if spec is not None:
        options["spec_path"] = spec
    return options
