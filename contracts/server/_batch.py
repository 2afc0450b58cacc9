"""Checks every batch passes before anything is stored (both processing modes): the body's shape and limits,
validation of each item, ownership and duplicate keys.  Errors are located the way the contract says."""

from __future__ import annotations

from typing import Any

from contracts.contract import MISSING, join_pointer, pointer_get, split_pointer

from ._documents import (
    _ABSENT,
    DocumentTooDeepError,
    complete_item,
    encode_body,
    getter,
    key_text,
    key_values,
)
from ._errors import ApiError, ErrorItem, documented_item
from ._settings import Account
from ._state import ServerState

__all__ = ["Batch", "Item", "Located"]

Located = tuple[int, ErrorItem]
_MAX_SQLITE_INT = 2**63 - 1


class Item:
    """One accepted item (slots: built 100 times per request)."""

    __slots__ = ("body", "document", "explicit_id", "index", "key", "key_values")

    def __init__(
        self,
        index: int,
        document: dict[str, Any],  # as stored: key defaults and required resource members filled in
        body: bytes,
        key_values: tuple[Any, ...],
        key: str,
        explicit_id: int | None,  # the request's explicit id, when given (-1: cannot name a stored item)
    ) -> None:
        self.index = index
        self.document = document
        self.body = body
        self.key_values = key_values
        self.key = key
        self.explicit_id = explicit_id


def _explicit_id(raw: Any) -> int | None:
    if raw is None or raw is MISSING:
        return None
    text = str(raw)
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) > _MAX_SQLITE_INT:
        return -1
    return int(text)


class Batch:
    def __init__(self, state: ServerState, account: Account) -> None:
        self.state = state
        self.shape = state.shape
        self.contract = state.contract
        self.account = account
        key = self.contract.key
        dropped: str | None = None
        if state.fault("upsert_ignores_key_member") and self.contract.ownership is not None:
            dropped = self.contract.ownership.member
        if state.fault("key_ignores_source"):
            dropped = next((m for m in key.members if m in key.defaults), None)
        self.key_positions = tuple(i for i, member in enumerate(key.members) if member != dropped)

    # -- locations and errors ------------------------------------------------------------------------

    def error(self, index: int, path: tuple[str | int, ...], detail: str, code: str = "invalid") -> Located:
        shown = (
            index + 1
            if self.state.fault("pointer_index_off_by_one") or self.state.fault("error_index_off_by_one")
            else index
        )
        if self.state.fault("pointer_without_path"):
            path = ()
        location = self.contract.errors.locate(shown, path)
        return index, ErrorItem(detail, code, location, index=shown)

    def documented(
        self, name: str, index: int, member: str, fallback: str, code: str = "invalid", **values: Any
    ) -> Located:
        found = self.contract.errors.get(name)
        path: tuple[str | int, ...] = split_pointer(
            found.member if found and found.member is not None else member
        )
        at, item = self.error(index, path, fallback, code)
        if found is None:
            return at, ErrorItem(
                fallback.format(**values) if values else fallback, code, item.location, index=item.index
            )
        detail = found.render(index=item.index, **values)
        return at, ErrorItem(detail, found.code or code, item.location, index=item.index)

    def whole(
        self, name: str, fallback: str, code: str = "invalid", title: str | None = None, **values: Any
    ) -> ApiError:
        status, item = documented_item(
            self.shape, name, detail=fallback, code=code, location=self.contract.errors.whole_batch,
            title=title, **values,
        )  # fmt: skip
        return ApiError(status or 400, [item])

    # -- shape and limits ----------------------------------------------------------------------------

    def items_of(self, payload: Any) -> list[Any]:
        batch = self.contract.batch
        items = batch.items_of(payload)
        if items is None:
            wrong = self.whole(
                "not_a_list",
                "Wrong request format, expected list of objects",
                "non_field_errors",
                "Wrong format",
            )
            if not batch.wrapped:  # the whole body is the list: the error names no location
                wrong.items = [ErrorItem(i.detail, i.code, None, title=i.title) for i in wrong.items]
            raise wrong
        limit: float = batch.max_items if batch.max_items is not None else float("inf")
        if self.state.fault("no_batch_limit"):
            limit = float("inf")
        elif self.state.fault("limit_off_by_one"):
            limit += 1
        if len(items) > limit:
            raise self.whole(
                "too_many", "Orders list should have at most {max} items, not {count}",
                max=batch.max_items, count=len(items),
            )  # fmt: skip
        if len(items) < batch.min_items and not self.state.fault("empty_batch_accepted"):
            fallback = (
                "This list may not be empty." if not items else "Too few items: at least {min}, not {count}"
            )
            code = "empty" if self.shape.error_codes is None and not items else "invalid"
            raise self.whole("too_few", fallback, code, min=batch.min_items, count=len(items))
        explicit = self.contract.key.explicit_id
        if explicit is not None and self.state.fault("integer_id_accepted"):
            for item in items:
                if isinstance(item, dict) and type(pointer_get(item, explicit, None)) is int:
                    item[split_pointer(explicit)[-1]] = str(pointer_get(item, explicit))
        return items

    # -- validation ----------------------------------------------------------------------------------

    def key_of(self, document: Any) -> tuple[tuple[Any, ...], str]:
        values = key_values(self.shape, document)
        if len(self.key_positions) == len(values):
            return values, key_text(values)
        return values, key_text(tuple(values[i] for i in self.key_positions))

    def validate(self, items: list[Any], *, queued: bool = False) -> tuple[list[Item], list[Located]]:
        """Accepted items and located errors.  ``queued``: only the documents are needed now (an operation
        stores them for later): no stored body, and no key unless duplicates are refused; a document
        nested too deeply for the encoder is then not noticed here (the caller checks again)."""
        errors: list[Located] = []
        open_codes = self.shape.error_codes is None
        wording = self._documented_wording() if open_codes else {}
        for issue in self.state.validators.batch_issues(items):
            index = issue.path[0] if issue.path and isinstance(issue.path[0], int) else 0
            inner = issue.path[1:]
            code = issue.kind if open_codes else "invalid"
            found = self._documented_issue(join_pointer(inner), code)
            if found is not None:
                errors.append(self.documented(found, index, join_pointer(inner), issue.message, code))
            else:
                errors.append(self.error(index, inner, wording.get(code, issue.message), code))
        bad = {index for index, _ in errors}
        accepted: list[Item] = []
        explicit = self.contract.key.explicit_id
        explicit_at = getter(split_pointer(explicit)) if explicit else None
        shape, key_of = self.shape, self.key_of
        plain = not self.contract.key.defaults and not shape.fill  # nothing to complete
        keyed = not queued or self.contract.batch.duplicate_keys == "reject"
        body, values, key = b"", (), ""
        for index, raw in enumerate(items):
            if index in bad:
                continue
            document = raw if plain else complete_item(shape, raw)
            if not queued:
                try:
                    body = encode_body(shape, document)
                except DocumentTooDeepError:
                    errors.append(self.error(index, (), "Order nests too deeply (more than 250 levels)"))
                    continue
            if keyed:
                values, key = key_of(document)
            explicit_id = None
            if explicit_at is not None:
                found = explicit_at(raw)
                explicit_id = _explicit_id(None if found is _ABSENT else found)
            accepted.append(Item(index, document, body, values, key, explicit_id))
        return accepted, errors

    def _documented_wording(self) -> dict[str, str]:
        """How the spec words a missing member or an empty list (from a documented per-item error with that
        code, without its location), so every such problem reads the same whichever validator found it."""
        wording: dict[str, str] = {}
        for documented in self.contract.errors.documented.values():
            if documented.member is None or documented.code not in ("required", "empty"):
                continue
            where = self.contract.errors.locate(0, split_pointer(documented.member))
            text = documented.render(index=0)
            if where and text.startswith(where):
                wording.setdefault(documented.code, text[len(where) :])
        return wording

    def _documented_issue(self, member: str, code: str) -> str | None:
        for name, documented in self.contract.errors.documented.items():
            if documented.member == member and documented.code == code:
                return name
        return None

    def check_business(self, items: list[Item]) -> list[Located]:
        errors: list[Located] = []
        ownership = self.contract.ownership
        owned = set(self.account.owns)
        first_seen: dict[str, int] = {}
        reject = self.contract.batch.duplicate_keys == "reject"
        owner_at = None
        if ownership is not None and not self.state.fault("foreign_owned_accepted"):
            owner_at = getter(split_pointer(ownership.member))
        for item in items:
            if owner_at is not None and ownership is not None:
                value = owner_at(item.document)
                if value is _ABSENT or value not in owned:
                    value = None if value is _ABSENT else value
                    errors.append(
                        self.documented(
                            ownership.error.name,
                            item.index,
                            ownership.member,
                            "{value} is not yours",
                            value=value,
                        )  # fmt: skip
                    )
            if reject and item.key in first_seen:
                member = self.contract.key.members[0]
                errors.append(
                    self.documented(
                        "duplicate_key",
                        item.index,
                        member,
                        "Key {key} already appears at index {first}",
                        key=item.key_values,
                        first=first_seen[item.key],
                    )  # fmt: skip
                )
            first_seen.setdefault(item.key, item.index)
        return errors

    def checked(self, payload: Any, *, queued: bool = False) -> tuple[list[Item], list[Located]]:
        """Shape, validation and business checks; (accepted items, located errors).  ``queued``: see
        :meth:`validate`."""
        items, errors = self.validate(self.items_of(payload), queued=queued)
        if not errors:
            errors = self.check_business(items)
        return items, errors


def refuse(errors: list[Located]) -> ApiError:
    return ApiError(400, [item for _, item in sorted(errors, key=lambda pair: pair[0])])
