"""Catalogue of deliberately broken behaviours the reference server can switch on (``--fault NAME``).

Each fault is a small conditional at the place of the behaviour it breaks; the set of active faults
travels in :class:`~contracts.server.ServerSettings` as a frozen set.  A fault applies to the dialects whose
contract has the feature it breaks (a batch limit, a synchronous answer, an asynchronous operation, ...);
asking for one that does not apply is refused.  See ``docs/faults.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from contracts.contract import Contract

__all__ = [
    "FAULTS",
    "FaultNotApplicableError",
    "Faults",
    "UnknownFaultError",
    "check_faults",
    "fault_reason",
    "faults_for",
    "parse_faults",
]

Faults = frozenset[str]


@dataclass(frozen=True)
class _Fault:
    description: str
    needs: str  # what the contract must have, said in words (for the refusal)
    applies: Callable[[Contract], bool]


def _sync(c: Contract) -> bool:
    return not c.processing.asynchronous


def _async(c: Contract) -> bool:
    return c.processing.asynchronous


def _defaulted_key_member(c: Contract) -> bool:
    return any(member in c.key.defaults for member in c.key.members)


def _owned_key_member(c: Contract) -> bool:
    return c.ownership is not None and c.ownership.member in c.key.members


def _located_by_index(c: Contract) -> bool:
    return c.errors.style != "pointer"


_CATALOGUE: dict[str, _Fault] = {
    "no_upsert": _Fault(
        "the batch always inserts a new item, even when its key already exists",
        "key.existing: update",
        lambda c: c.key.existing == "update",
    ),
    "upsert_ignores_key_member": _Fault(
        "the key leaves out the owned member (the same first key member under another owner overwrites)",
        "an ownership member that is part of the key",
        _owned_key_member,
    ),
    "no_batch_limit": _Fault(
        "batches above batch.max_items are accepted",
        "batch.max_items",
        lambda c: c.batch.max_items is not None,
    ),
    "limit_off_by_one": _Fault(
        "a batch of max_items + 1 is accepted (max_items + 2 is rejected)",
        "batch.max_items",
        lambda c: c.batch.max_items is not None,
    ),
    "partial_commit": _Fault(
        "on a failing item, the valid items before it are stored anyway (the batch is still refused)",
        "batch.atomic",
        lambda c: c.batch.atomic,
    ),
    "pointer_index_off_by_one": _Fault(
        "error pointers name the item at index+1",
        "errors.location.style: pointer",
        lambda c: not _located_by_index(c),
    ),
    "pointer_without_path": _Fault(
        "error pointers stop at the item (no path inside it)",
        "errors.location.style: pointer",
        lambda c: not _located_by_index(c),
    ),
    "results_reversed": _Fault(
        "the per-item results are in reverse request order", "synchronous results", _sync
    ),
    "id_as_string": _Fault(
        "the result ids are strings instead of integers",
        "key.id_types.response: integer and synchronous results",
        lambda c: _sync(c) and c.key.response_id_type == "integer",
    ),
    "integer_id_accepted": _Fault(
        "an integer explicit id in a request item is accepted instead of rejected",
        "key.explicit_id with id_types.request: string",
        lambda c: c.key.explicit_id is not None and c.key.request_id_type == "string",
    ),
    "no_conflict_detection": _Fault(
        "no processing claims, and check-then-write races so that concurrent identical batches create "
        "duplicate items",
        "synchronous processing",
        _sync,
    ),
    "no_auth": _Fault(
        "requests without (or with wrong) credentials are served as the first (demo) account",
        "auth",
        lambda c: True,
    ),
    "foreign_owned_accepted": _Fault(
        "owned values of another account (or unknown ones) are accepted",
        "ownership",
        lambda c: c.ownership is not None,
    ),
    "order_id_change_allowed": _Fault(
        "an item targeted by its explicit id may change an immutable member",
        "key.immutable and key.explicit_id",
        lambda c: bool(c.key.immutable) and c.key.explicit_id is not None,
    ),
    "status_200": _Fault("a successful batch answers 200 instead of 201", "synchronous results", _sync),
    "delete_noop": _Fault(
        "DELETE answers 204 but deletes nothing", "a delete operation", lambda c: c.has("delete")
    ),
    "patch_ignores_fields": _Fault(
        "PATCH answers 200 but stores nothing", "an update operation", lambda c: c.has("update")
    ),
    "list_ignores_filters": _Fault(
        "the list ignores every filter parameter (account scoping stays)",
        "list.filters",
        lambda c: c.listing is not None and bool(c.listing.filters),
    ),
    "pagination_repeats": _Fault(
        "the next page repeats the last item of the current page",
        "a list operation",
        lambda c: c.listing is not None,
    ),
    "pagination_skips": _Fault(
        "the next page skips its first item", "a list operation", lambda c: c.listing is not None
    ),
    "errors_without_array": _Fault(
        'error bodies are {"error": "..."} instead of the documented error list', "errors", lambda c: True
    ),
    # -- asynchronous operations (Karrio) -------------------------------------------------------------
    "never_completes": _Fault(
        "accepted operations stay in their first status forever (the worker never runs them)",
        "asynchronous processing",
        _async,
    ),
    "loses_orders": _Fault(
        "the operation reports every item as done, but the last item of each batch is never stored",
        "asynchronous processing",
        _async,
    ),
    "updates_instead_of_reusing": _Fault(
        "an item whose key is stored overwrites the stored item instead of reusing it unchanged",
        "key.existing: reuse",
        lambda c: c.key.existing == "reuse",
    ),
    "key_ignores_source": _Fault(
        "the key leaves out the member that has a default (another value of it reuses the same item)",
        "a key member with a default",
        _defaulted_key_member,
    ),
    "error_index_off_by_one": _Fault(
        "per-item errors name the item at index+1 (in the message path and the index member)",
        "errors.location.style: message_path or index",
        _located_by_index,
    ),
    "status_outside_enum": _Fault(
        "a finished operation reports a status that is not in the documented list",
        "asynchronous processing",
        _async,
    ),
    "large_body_5xx": _Fault(
        "a request body above 64 KiB answers 500 with an HTML page instead of being processed or refused",
        "a batch operation",
        lambda c: True,
    ),
    "resources_name_nothing": _Fault(
        "operation resources carry ids that name no stored item", "asynchronous processing", _async
    ),
    "duplicates_under_concurrency": _Fault(
        "operations run concurrently and look up keys before a pause, so concurrent batches with the same "
        "keys store duplicates",
        "asynchronous processing",
        _async,
    ),
    "empty_batch_accepted": _Fault(
        "a batch with fewer than min_items items is accepted",
        "batch.min_items >= 1",
        lambda c: c.batch.min_items >= 1,
    ),
}

FAULTS: Mapping[str, str] = MappingProxyType({name: f.description for name, f in _CATALOGUE.items()})


class UnknownFaultError(ValueError):
    """A fault name that is not in :data:`FAULTS`."""

    def __init__(self, name: str) -> None:
        self.name = name
        known = ", ".join(sorted(FAULTS))
        super().__init__(f"unknown fault {name!r}; known faults: {known}")


class FaultNotApplicableError(ValueError):
    """A known fault that breaks a feature the served contract does not have."""


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


def faults_for(contract: Contract) -> dict[str, str]:
    """The faults that apply to ``contract``'s dialect: name → description."""
    return {name: f.description for name, f in _CATALOGUE.items() if f.applies(contract)}


def fault_reason(name: str) -> str:
    """What a contract must have for fault ``name`` to apply."""
    return _CATALOGUE[name].needs


def check_faults(faults: Iterable[str], contract: Contract) -> None:
    """FaultNotApplicableError naming the first fault that ``contract``'s dialect cannot have."""
    for name in sorted(faults):
        if name not in _CATALOGUE:
            raise UnknownFaultError(name)
        if not _CATALOGUE[name].applies(contract):
            usable = ", ".join(sorted(faults_for(contract)))
            raise FaultNotApplicableError(
                f"fault {name!r} does not apply to dialect {contract.dialect!r} (it needs "
                f"{_CATALOGUE[name].needs}); faults for this dialect: {usable}"
            )
