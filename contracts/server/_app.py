"""The Starlette application: routes under ``/api/v3``, JSON errors everywhere, ``GET /health``."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from ._contract import load_contract
from ._documents import order_json
from ._errors import ApiError, ErrorItem, error_response
from ._http import authenticate, check_partner, read_json
from ._listing import list_orders
from ._settings import Account, ServerSettings
from ._single import delete_order, get_order, parse_order_pk, patch_order
from ._state import ServerState
from ._storage import Store
from ._upsert import upsert_batch
from ._validation import load_models

__all__ = ["create_app"]

log = logging.getLogger("contracts.server")
Handler = Callable[[ServerState, Account, Request], Awaitable[Response]]


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json", headers=headers)


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.server
    return state


Endpoint = Callable[[Request], Awaitable[Response]]


def _api(handler: Handler) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        state = _state(request)
        try:
            account = authenticate(state, request)
            check_partner(state, request, account)
            return await handler(state, account, request)
        except ApiError as error:
            return error_response(error, without_array=state.fault("errors_without_array"))
        except ClientDisconnect:
            log.info("client went away during %s %s", request.method, request.url.path)
            return Response(status_code=400)
        except Exception as exc:
            without_array = state.fault("errors_without_array")
            if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
                # Another worker held the write lock longer than busy_timeout: retryable, like a conflict.
                log.warning("database busy during %s %s", request.method, request.url.path)
                rules = state.rules
                return error_response(
                    ApiError(400, [ErrorItem(rules.conflict_detail, pointer=rules.conflict_pointer)]),
                    without_array=without_array,
                )
            log.exception("unexpected error in %s %s", request.method, request.url.path)
            crash = ApiError(
                500, [ErrorItem("Unexpected server error; it has been logged.", title="Server error")]
            )
            return error_response(crash, without_array=without_array)

    endpoint.__name__ = handler.__name__
    return endpoint


async def _upsert(state: ServerState, account: Account, request: Request) -> Response:
    status, data = await upsert_batch(state, account, await read_json(state, request))
    return _json({"data": data}, status)


async def _list(state: ServerState, account: Account, request: Request) -> Response:
    page = list_orders(state, account, request.query_params)
    links = []
    if page.next_cursor:
        links.append(f'<{request.url.include_query_params(cursor=page.next_cursor)}>; rel="next"')
    if page.prev_cursor:
        links.append(f'<{request.url.include_query_params(cursor=page.prev_cursor)}>; rel="prev"')
    headers = {"Link": ", ".join(links)} if links else None
    body = b'{"data":[' + b",".join(order_json(row) for row in page.rows) + b"]}"
    return Response(body, media_type="application/json", headers=headers)


async def _get(state: ServerState, account: Account, request: Request) -> Response:
    row = get_order(state, account, parse_order_pk(request.path_params["id"]))
    return Response(b'{"data":' + order_json(row) + b"}", media_type="application/json")


async def _patch(state: ServerState, account: Account, request: Request) -> Response:
    pk = parse_order_pk(request.path_params["id"])
    payload = await read_json(state, request)
    return _json({"data": patch_order(state, account, pk, payload)})


async def _delete(state: ServerState, account: Account, request: Request) -> Response:
    delete_order(state, account, parse_order_pk(request.path_params["id"]))
    return Response(status_code=204)


async def _health(request: Request) -> Response:
    state = _state(request)
    try:
        state.store.conn.execute("SELECT 1").fetchone()
    except Exception:  # pragma: no cover - only when the database file vanished
        log.exception("health check failed")
        return _json({"status": "unavailable"}, 503)
    return _json({"status": "ok"})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid")
    detail = {404: "No such endpoint", 405: f"Method {request.method} is not allowed here"}.get(
        exc.status_code, str(exc.detail)
    )
    error = ApiError(exc.status_code, [ErrorItem(detail, code)], dict(exc.headers or {}))
    return error_response(error, without_array=_state(request).fault("errors_without_array"))


def _route(path: str, handlers: dict[str, Endpoint]) -> Route:
    """One route per path, so a 405 answer's ``Allow`` header names every method the path has."""

    async def dispatch(request: Request) -> Response:
        return await handlers["GET" if request.method == "HEAD" else request.method](request)

    return Route(path, dispatch, methods=sorted(handlers))


def create_app(settings: ServerSettings) -> Starlette:
    """A ready app: the models are imported, the spec's x-contract read, the database opened."""
    load_models()
    state = ServerState(settings, Store(settings.db_path), load_contract(settings.spec_path))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        state.store.close()

    collection = {"GET": _api(_list), "POST": _api(_upsert)}
    single = {"GET": _api(_get), "PATCH": _api(_patch), "DELETE": _api(_delete)}
    routes = [_route(path, collection) for path in ("/api/v3/orders", "/api/v3/orders/")]
    routes += [_route(path, single) for path in ("/api/v3/orders/{id}", "/api/v3/orders/{id}/")]
    routes.append(Route("/health", _health, methods=["GET"]))
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: _http_error})
    app.state.server = state
    return app
