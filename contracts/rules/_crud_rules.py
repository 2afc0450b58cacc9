"""Single-order lifecycle and listing rules: CRUD, filters, cursor pagination."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from hypothesis import strategies as st

from ..strategies import build_batch, set_pointer, valid_orders
from ._base import RuleContext, rule
from ._support import created_ids, get_pointer, poll, post_batch, property_run, rekey

__all__: list[str] = []

Order = dict[str, Any]
_NEXT = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')


def _check(ctx: RuleContext, op_id: str, reply: Any, what: str) -> None:
    problems = ctx.validator.problems(op_id, reply)
    if problems:
        raise ctx.fail(f"{what}: {problems[0]}", reply)


def _data(reply: Any) -> Any:
    return reply.data.get("data") if isinstance(reply.data, dict) else None


@rule(
    "crud.lifecycle",
    "create -> GET shows it -> PATCH answers the change -> GET shows the change -> DELETE 204 -> GET 404 "
    "(every answer matching the spec).",
    "seed 003: retrieve, partially update and delete an order; spec: getOrder, updateOrder, deleteOrder",
)
def lifecycle(ctx: RuleContext) -> None:
    def check(order: Order) -> None:
        (order,) = rekey(ctx, [order])
        reply = post_batch(ctx, [order])
        if reply.status != 201:
            raise ctx.fail(f"creating a valid order answered {reply.describe(160)}", reply)
        pk = created_ids(ctx, reply)[0]
        path = f"/orders/{pk}"
        got = poll(ctx, lambda: ctx.api.request("GET", path), lambda r: r.status == 200)
        if got.status != 200:
            raise ctx.fail(f"GET {path} after a 201 answered {got.describe(160)}", got)
        _check(ctx, "getOrder", got, f"GET {path}")
        shown = _data(got)
        for pointer in (ctx.contract.order_id_path, ctx.contract.integration_path, "/order_number"):
            if get_pointer(shown, pointer) != get_pointer(order, pointer):
                raise ctx.fail(
                    f"GET {path}: {pointer} is {get_pointer(shown, pointer)!r}, "
                    f"sent {get_pointer(order, pointer)!r}",
                    got,
                )
        patch = {"order_number": f"{order['order_number']}-patched", "order_details": {"notes": "patched"}}
        patched = ctx.api.request("PATCH", path, json_body=patch)
        if patched.status != 200:
            raise ctx.fail(f"PATCH {path} answered {patched.describe(160)}", patched)
        _check(ctx, "updateOrder", patched, f"PATCH {path}")
        if (_data(patched) or {}).get("order_number") != patch["order_number"]:
            raise ctx.fail(f"PATCH {path} answer does not show the new order_number", patched)
        after = poll(
            ctx,
            lambda: ctx.api.request("GET", path),
            lambda r: (_data(r) or {}).get("order_number") == patch["order_number"],
        )
        shown = _data(after) or {}
        if (
            shown.get("order_number") != patch["order_number"]
            or (shown.get("order_details") or {}).get("notes") != "patched"
        ):
            raise ctx.fail(
                f"after PATCH, GET {path} does not show the patched fields: {after.describe(200)}", after
            )
        if get_pointer(shown, ctx.contract.order_id_path) != get_pointer(order, ctx.contract.order_id_path):
            raise ctx.fail(f"after PATCH, order_id changed to {shown.get('order_id')!r}", after)
        deleted = ctx.api.request("DELETE", path)
        if deleted.status != 204:
            raise ctx.fail(f"DELETE {path} answered {deleted.describe(160)}", deleted)
        _check(ctx, "deleteOrder", deleted, f"DELETE {path}")
        gone = poll(ctx, lambda: ctx.api.request("GET", path), lambda r: r.status == 404)
        if gone.status != 404:
            raise ctx.fail(f"after DELETE 204, GET {path} answered {gone.describe(160)}", gone)
        _check(ctx, "getOrder", gone, f"GET {path} after DELETE")
        again = ctx.api.request("DELETE", path)
        if again.status != 404:
            raise ctx.fail(f"a second DELETE {path} answered {again.describe(160)}", again)

    property_run(ctx, valid_orders(ctx.integration_ids, spec=ctx.spec), check, max_examples=2)


def _listed_ids(ctx: RuleContext, params: dict[str, str]) -> tuple[Any, set[int]]:
    reply = ctx.api.request("GET", "/orders", params={**params, "page_size": "100"})
    if reply.status != 200:
        raise ctx.fail(f"GET /orders with {params} answered {reply.describe(160)}", reply)
    _check(ctx, "listOrders", reply, "GET /orders")
    return reply, {
        int(o["id"]) for o in (_data(reply) or []) if isinstance(o, dict) and str(o.get("id")).isdigit()
    }


@rule(
    "list.filters",
    "GET /orders filters by integration, order_id, order_number, status and creation date: exactly the "
    "matching orders come back.",
    "seed 003: 'retrieve a list of orders per integration'; spec: listOrders query parameters",
)
def list_filters(ctx: RuleContext) -> None:
    ints = sorted(set(ctx.integration_ids))
    a, b = ints[0], ints[-1]

    def check(templates: list[Order]) -> None:
        tag = ctx.fresh_prefix()
        batch = rekey(ctx, templates)
        plan = [
            (a, f"{tag}-n1", "paid", "2019-03-01T10:00:00Z"),
            (b, f"{tag}-n1", "cancelled", "2021-06-01T10:00:00Z"),
            (a, f"{tag}-n2", "paid", "2021-06-01T10:00:00Z"),
        ]
        for order, (integration, number, status, created) in zip(batch, plan, strict=True):
            set_pointer(order, ctx.contract.integration_path, integration)
            order["order_number"] = number
            set_pointer(order, "/order_details/status/code", status)
            set_pointer(order, "/order_details/order_created_at", created)
        reply = post_batch(ctx, batch)
        if reply.status != 201:
            raise ctx.fail(f"creating three orders answered {reply.describe(160)}", reply)
        x, y, z = created_ids(ctx, reply)
        n1 = f"{tag}-n1"
        queries = [
            ({"order_number": n1}, {x, y}),
            ({"order_id": str(get_pointer(batch[2], ctx.contract.order_id_path))}, {z}),
            ({"order_number": n1, "integration": str(a)}, {x} if a != b else {x, y}),
            ({"order_number": n1, "status": "cancelled"}, {y}),
            ({"order_number": n1, "order_created_at_min": "2020-01-01"}, {y}),
            ({"order_number": n1, "order_created_at_max": "2020-01-01"}, {x}),
        ]
        for params, want in queries:
            listing, got = poll(ctx, partial(_listed_ids, ctx, params), partial(_equals_ids, want))
            if got != want:
                raise ctx.fail(
                    f"GET /orders?{_q(params)} listed ids {sorted(got)[:8]}, expected {sorted(want)}", listing
                )

    single = valid_orders(ctx.integration_ids, spec=ctx.spec)
    property_run(ctx, st.lists(single, min_size=3, max_size=3), check, max_examples=1)


def _equals_ids(want: set[int], listed: tuple[Any, set[int]]) -> bool:
    return listed[1] == want


def _q(params: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items())


@rule(
    "list.pagination",
    'Walking the Link rel="next" pages of GET /orders visits every matching order exactly once.',
    "spec: listOrders Link header (RFC 8288) and cursor; seed 003: cursor pagination",
)
def list_pagination(ctx: RuleContext) -> None:
    def check(template: Order) -> None:
        tag = ctx.fresh_prefix()
        integration = get_pointer(template, ctx.contract.integration_path)
        batch = rekey(ctx, build_batch(ctx.contract, [template], [integration], [f"x-{i}" for i in range(7)]))
        for order in batch:
            order["order_number"] = tag
        reply = post_batch(ctx, batch)
        if reply.status != 201:
            raise ctx.fail(f"creating 7 orders answered {reply.describe(160)}", reply)
        want = set(created_ids(ctx, reply))
        poll(ctx, lambda: _listed_ids(ctx, {"order_number": tag}), lambda r: r[1] >= want)
        seen: list[int] = []
        url: str | None = f"/orders?order_number={tag}&page_size=2"
        pages = 0
        while url is not None and pages < len(want) + 3:
            page = ctx.api.request("GET", url)
            pages += 1
            if page.status != 200:
                raise ctx.fail(f"page {pages} of GET /orders answered {page.describe(160)}", page)
            _check(ctx, "listOrders", page, f"page {pages} of GET /orders")
            ids = [
                int(o["id"])
                for o in (_data(page) or [])
                if isinstance(o, dict) and str(o.get("id")).isdigit()
            ]
            repeated = set(ids) & set(seen)
            if repeated:
                raise ctx.fail(f"page {pages} repeats order(s) {sorted(repeated)} of an earlier page", page)
            seen += ids
            found = _NEXT.search(page.headers.get("link", ""))
            url = found.group(1) if found else None
        if url is not None:
            raise ctx.fail(f"still a next page after {pages} pages of 2 for {len(want)} orders")
        missing = want - set(seen)
        if missing:
            raise ctx.fail(
                f"walking {pages} pages (page_size=2) never showed order(s) {sorted(missing)} "
                f"of {len(want)}; saw {seen}"
            )

    property_run(ctx, valid_orders(ctx.integration_ids, spec=ctx.spec), check, max_examples=1)
