"""The Starlette application: one route per operation the contract binds (``base_path`` + the operation's
path), the contract's error shape everywhere, ``GET /health``."""

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
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from contracts.contract import BoundOperation, load_contract

from ._errors import ApiError, ErrorItem, error_response
from ._faults import check_faults
from ._http import LargeBodyFault, authenticate, check_tenant_headers, read_json
from ._listing import list_items
from ._operations import OperationWorker, create_operation, get_operation, list_operations
from ._settings import Account, ServerSettings
from ._single import delete_item, get_item, not_found, parse_pk, patch_item
from ._state import ServerState
from ._storage import Store
from ._upsert import conflict_error, upsert_batch

__all__ = ["create_app"]

log = logging.getLogger("contracts.server")
Handler = Callable[[ServerState, Account, Request], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]
_JSON = "application/json"


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type=_JSON, headers=headers)


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.server
    return state


def _tenant_checked(
    state: ServerState, request: Request, account: Account, documented: frozenset[str]
) -> None:
    """The tenant headers checked; where the operation does not document the status of a refused header
    but documents 404 (an item addressed by its id), the answer is that documented not found: nothing of
    a tenant the caller cannot act for is found."""
    try:
        check_tenant_headers(state, request, account)
    except ApiError as error:
        if str(error.status) in documented or "404" not in documented:
            raise
        raise not_found(state) from None


def _api(handler: Handler, operation: BoundOperation) -> Endpoint:
    documented = frozenset(str(status) for status in operation.node.get("responses") or {})

    async def endpoint(request: Request) -> Response:
        state = _state(request)
        without_array = state.fault("errors_without_array")
        try:
            account = authenticate(state, request)
            _tenant_checked(state, request, account, documented)
            return await handler(state, account, request)
        except ApiError as error:
            return error_response(error, state.shape, without_array=without_array)
        except ClientDisconnect:
            log.info("client went away during %s %s", request.method, request.url.path)
            return Response(status_code=400)
        except LargeBodyFault:
            return HTMLResponse("<html><body><h1>500 Internal Server Error</h1></body></html>", 500)
        except Exception as exc:
            if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
                # Another worker held the write lock longer than busy_timeout: retryable, like a conflict.
                log.warning("database busy during %s %s", request.method, request.url.path)
                return error_response(conflict_error(state), state.shape, without_array=without_array)
            log.exception("unexpected error in %s %s", request.method, request.url.path)
            crash = ApiError(
                500, [ErrorItem("Unexpected server error; it has been logged.", title="Server error")]
            )
            return error_response(crash, state.shape, without_array=without_array)

    endpoint.__name__ = handler.__name__
    return endpoint


async def _batch_write(state: ServerState, account: Account, request: Request) -> Response:
    payload = await read_json(state, request)
    if state.contract.processing.asynchronous:
        status, body = await create_operation(state, account, payload)
    else:
        status, body = await upsert_batch(state, account, payload)
    return _json(body, status)


async def _list(state: ServerState, account: Account, request: Request) -> Response:
    body, headers = list_items(state, account, request.query_params, request.url)
    return Response(body, media_type=_JSON, headers=headers or None)


async def _read_one(state: ServerState, account: Account, request: Request) -> Response:
    pk = parse_pk(state, _path_value(request), state.contract.operation("read_one"))
    return Response(get_item(state, account, pk), media_type=_JSON)


async def _update(state: ServerState, account: Account, request: Request) -> Response:
    pk = parse_pk(state, _path_value(request), state.contract.operation("update"))
    payload = await read_json(state, request)
    return Response(patch_item(state, account, pk, payload), media_type=_JSON)


async def _delete(state: ServerState, account: Account, request: Request) -> Response:
    delete_item(state, account, parse_pk(state, _path_value(request), state.contract.operation("delete")))
    return Response(status_code=204)


async def _operation_status(state: ServerState, account: Account, request: Request) -> Response:
    return _json(get_operation(state, account, _path_value(request)))


async def _operation_list(state: ServerState, account: Account, request: Request) -> Response:
    return Response(list_operations(state, account, request.query_params, request.url), media_type=_JSON)


def _path_value(request: Request) -> str:
    values = list(request.path_params.values())
    return str(values[-1]) if values else ""


_HANDLERS: dict[str, Handler] = {
    "batch_write": _batch_write,
    "list": _list,
    "read_one": _read_one,
    "update": _update,
    "delete": _delete,
    "operation_status": _operation_status,
    "operation_list": _operation_list,
}


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
    state = _state(request)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid")
    detail = {404: "No such endpoint", 405: f"Method {request.method} is not allowed here"}.get(
        exc.status_code, str(exc.detail)
    )
    error = ApiError(exc.status_code, [ErrorItem(detail, code)], dict(exc.headers or {}))
    return error_response(error, state.shape, without_array=state.fault("errors_without_array"))


def _route(path: str, handlers: dict[str, Endpoint]) -> Route:
    """One route per path, so a 405 answer's ``Allow`` header names every method the path has."""

    async def dispatch(request: Request) -> Response:
        return await handlers["GET" if request.method == "HEAD" else request.method](request)

    return Route(path, dispatch, methods=sorted(handlers))


def routes_of(state: ServerState) -> list[Route]:
    """Routes of every bound operation, each also with a trailing slash."""
    by_path: dict[str, dict[str, Endpoint]] = {}
    base = state.contract.base_path
    for role, operation in state.contract.operations.items():
        path = base + operation.path
        by_path.setdefault(path.rstrip("/") or "/", {})[operation.method] = _api(_HANDLERS[role], operation)
    routes = []
    for path, handlers in by_path.items():
        routes.append(_route(path, handlers))
        if path != "/":
            routes.append(_route(path + "/", handlers))
    return routes


def create_app(settings: ServerSettings) -> Starlette:
    """A ready app: the spec's contract read, its validators built, the database opened."""
    contract = load_contract(settings.spec_path)
    check_faults(settings.faults, contract)
    from ._shape import shape_of

    state = ServerState(settings, Store(settings.db_path, shape_of(contract)), contract)
    state.worker = OperationWorker(state) if contract.processing.asynchronous else None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if state.worker is not None:
            state.worker.start(resume=settings.workers == 1)
        try:
            yield
        finally:
            if state.worker is not None:
                await state.worker.stop()
            state.store.close()

    routes = routes_of(state)
    routes.append(Route("/health", _health, methods=["GET"]))
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: _http_error})
    app.state.server = state
    return app
