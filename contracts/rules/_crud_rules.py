"""Single-item lifecycle and listing rules: read/update/delete, filters, pagination."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from hypothesis import strategies as st

from ..contract import Contract, pointer_get
from ..strategies import build_batch, id_member, mark_member, owned_member, set_pointer, valid_orders
from ._base import RuleContext, rule
from ._support import (
    get_mark,
    list_items,
    page_size_param,
    poll,
    post_batch,
    processed_ids,
    property_run,
    read_back,
    read_one,
    rekey,
    set_mark,
    stored,
)

__all__: list[str] = []

Order = dict[str, Any]
_NEXT = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')


def _check(ctx: RuleContext, role: str, reply: Any, what: str) -> None:
    problems = ctx.validator.problems(ctx.contract.operation(role).operation_id, reply)  # type: ignore[arg-type]
    if problems:
        raise ctx.fail(f"{what}: {problems[0]}", reply)


def _crud_applies(contract: Contract) -> str | None:
    missing = [role for role in ("read_one", "update", "delete") if not contract.has(role)]
    return f"x-contract.operations binds no {', '.join(missing)} operation" if missing else None


@rule(
    "crud.lifecycle",
    "create -> read shows it -> update answers the change -> read shows the change -> delete -> read 404 "
    "(every answer matching the spec).",
    "x-contract.operations read_one, update, delete",
    order=160,
    applies=_crud_applies,
)
def lifecycle(ctx: RuleContext) -> None:
    update, delete = ctx.contract.operation("update"), ctx.contract.operation("delete")
    mark = mark_member(ctx.spec)

    def check(order: Order) -> None:
        (order,) = rekey(ctx, [order])
        pk = processed_ids(ctx, post_batch(ctx, [order]), 1)[0]
        path = update.url_path(**dict.fromkeys(update.path_parameters, pk))
        got = read_back(ctx, pk)
        if got.status != 200:
            raise ctx.fail(f"reading {pk!r} after it was accepted answered {got.describe(160)}", got)
        _check(ctx, "read_one", got, f"GET {path}")
        shown = stored(ctx, got)
        for pointer in (*ctx.contract.key.members, mark):
            if pointer_get(shown, pointer, None) != pointer_get(order, pointer, None):
                raise ctx.fail(
                    f"reading {pk!r}: {pointer} is {pointer_get(shown, pointer, None)!r}, "
                    f"sent {pointer_get(order, pointer, None)!r}",
                    got,
                )
        patch: dict[str, Any] = {}
        set_pointer(patch, mark, "patched")
        patched = ctx.api.request(update.method, path, json_body=patch)
        if patched.status != 200:
            raise ctx.fail(f"{update.method} {path} answered {patched.describe(160)}", patched)
        _check(ctx, "update", patched, f"{update.method} {path}")
        if get_mark(ctx, stored(ctx, patched)) != "patched":
            raise ctx.fail(f"{update.method} {path} answer does not show the new {mark}", patched)
        after = read_back(ctx, pk, lambda item: get_mark(ctx, item) == "patched")
        if get_mark(ctx, stored(ctx, after)) != "patched":
            raise ctx.fail(
                f"after {update.method}, reading {pk!r} does not show the change: {after.describe(200)}",
                after,
            )
        first = id_member(ctx.contract)
        if pointer_get(stored(ctx, after), first, None) != pointer_get(order, first, None):
            raise ctx.fail(
                f"after {update.method}, {first} changed to {pointer_get(stored(ctx, after), first, None)!r}",
                after,
            )
        delete_path = delete.url_path(**dict.fromkeys(delete.path_parameters, pk))
        deleted = ctx.api.request(delete.method, delete_path)
        if deleted.status not in (200, 202, 204):
            raise ctx.fail(f"{delete.method} {delete_path} answered {deleted.describe(160)}", deleted)
        _check(ctx, "delete", deleted, f"{delete.method} {delete_path}")
        gone = poll(ctx, lambda: read_one(ctx, pk), lambda r: r.status == 404)
        if gone.status != 404:
            raise ctx.fail(
                f"after {delete.method} {deleted.status}, reading {pk!r} answered {gone.describe(160)}", gone
            )
        _check(ctx, "read_one", gone, f"reading {pk!r} after {delete.method}")
        again = ctx.api.request(delete.method, delete_path)
        if again.status != 404:
            raise ctx.fail(f"a second {delete.method} {delete_path} answered {again.describe(160)}", again)

    property_run(ctx, valid_orders(ctx.owned, spec=ctx.spec), check, max_examples=2)


def _ids(ctx: RuleContext, items: list[Any]) -> set[str]:
    return {str(pointer_get(o, ctx.contract.resource.id, "")) for o in items if isinstance(o, dict)}


def _listed_ids(ctx: RuleContext, params: dict[str, str]) -> tuple[Any, set[str]]:
    reply, items = list_items(ctx, params)
    _check(ctx, "list", reply, "listing")
    return reply, _ids(ctx, items)


def _list_applies(contract: Contract) -> str | None:
    if not contract.has("list") or contract.listing is None:
        return "x-contract binds no list operation"
    return None


def _tag_filter(ctx: RuleContext) -> tuple[str, str] | None:
    """A filter (parameter, member) whose member can hold any short text: it isolates this run's items."""
    listing = ctx.contract.listing
    assert listing is not None
    first, owner = id_member(ctx.contract), owned_member(ctx.contract)
    candidates = [(p, m) for p, m in listing.filters.items() if m not in (first, owner)]
    mark = mark_member(ctx.spec)
    for param, member in candidates:
        if member == mark:
            return param, member
    for param, member in candidates:
        node = ctx.spec.member_schema(member)
        if node.get("type") == "string" and not any(
            k in node for k in ("enum", "pattern", "format", "const")
        ):
            return param, member
    return None


@rule(
    "list.filters",
    "The list operation filters by each documented filter: every listed item matches, and this run's "
    "matching items are all listed.",
    "x-contract.list.filters; spec: the list operation's query parameters",
    order=170,
    applies=_list_applies,
)
def list_filters(ctx: RuleContext) -> None:
    listing = ctx.contract.listing
    assert listing is not None

    def check(templates: list[Order]) -> None:
        batch = rekey(ctx, templates)
        for i, order in enumerate(batch):
            set_mark(ctx, order, f"{ctx.run_prefix}-f{i % 2}")
        if owned_member(ctx.contract) and len(set(ctx.owned)) > 1:
            for i, order in enumerate(batch):
                set_pointer(order, owned_member(ctx.contract) or "", sorted(set(ctx.owned), key=str)[i % 2])
        ids = processed_ids(ctx, post_batch(ctx, batch), len(batch))
        for pk in ids:
            read_back(ctx, pk)
        for param, member in sorted(listing.filters.items()):
            value = pointer_get(batch[0], member, None)
            if value is None or isinstance(value, dict | list):
                continue
            want = {
                str(pk)
                for pk, order in zip(ids, batch, strict=True)
                if pointer_get(order, member, None) == value
            }
            reply, items = poll(
                ctx, partial(list_items, ctx, {param: str(value)}), partial(_shows, ctx, want)
            )
            wrong = [
                o for o in items if isinstance(o, dict) and str(pointer_get(o, member, None)) != str(value)
            ]
            if wrong:
                raise ctx.fail(
                    f"listing with {param}={value!r} shows an item whose {member} is "
                    f"{pointer_get(wrong[0], member, None)!r}",
                    reply,
                )
            missing = want - _ids(ctx, items)
            if missing and len(items) < 100:
                raise ctx.fail(
                    f"listing with {param}={value!r} leaves out matching item(s) {sorted(missing)[:5]}", reply
                )

    single = valid_orders(ctx.owned, spec=ctx.spec)
    property_run(ctx, st.lists(single, min_size=3, max_size=3), check, max_examples=1)


def _shows(ctx: RuleContext, want: set[str], listed: tuple[Any, list[Any]]) -> bool:
    return want <= _ids(ctx, listed[1])


def _next_link(ctx: RuleContext, page: Any) -> str | None:
    listing = ctx.contract.listing
    if listing is not None and listing.pagination == "page":
        found = pointer_get(page.data, "/next", None) if page.is_json else None
        return found if isinstance(found, str) and found else None
    match = _NEXT.search(page.headers.get("link", ""))
    return match.group(1) if match else None


@rule(
    "list.pagination",
    "Walking the next pages of the list operation visits every matching item exactly once.",
    "x-contract.list.pagination; spec: the list operation's paging",
    order=180,
    applies=_list_applies,
)
def list_pagination(ctx: RuleContext) -> None:
    size_param = page_size_param(ctx)

    def check(template: Order) -> None:
        tag_filter = _tag_filter(ctx)
        if tag_filter is None:
            raise ctx.not_applicable("no list filter on a free-text member to isolate this run's items")
        param, member = tag_filter
        tag = ctx.fresh_prefix()
        batch = rekey(ctx, build_batch(ctx.contract, [template], ctx.owned[:1], [f"x-{i}" for i in range(7)]))
        for order in batch:
            set_pointer(order, member, tag)
        want = {str(pk) for pk in processed_ids(ctx, post_batch(ctx, batch), len(batch))}
        poll(ctx, partial(_listed_ids, ctx, {param: tag}), lambda r: r[1] >= want)
        seen: list[str] = []
        params = {param: tag, **({size_param: "2"} if size_param else {})}
        url: str | None = None
        pages = 0
        while pages < len(want) + 3:
            page, items = list_items(ctx, params if url is None else {}, url=url)
            pages += 1
            _check(ctx, "list", page, f"page {pages} of the listing")
            ids = [str(pointer_get(o, ctx.contract.resource.id, "")) for o in items if isinstance(o, dict)]
            repeated = set(ids) & set(seen)
            if repeated:
                raise ctx.fail(f"page {pages} repeats item(s) {sorted(repeated)} of an earlier page", page)
            seen += ids
            url = _next_link(ctx, page)
            if url is None:
                break
        if url is not None:
            raise ctx.fail(f"still a next page after {pages} pages of 2 for {len(want)} items")
        missing = want - set(seen)
        if missing:
            raise ctx.fail(
                f"walking {pages} pages of 2 never showed item(s) {sorted(missing)} of {len(want)}; "
                f"saw {seen}"
            )

    property_run(ctx, valid_orders(ctx.owned, spec=ctx.spec), check, max_examples=1)
