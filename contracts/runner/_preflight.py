"""Preflight: before any rule, one unauthenticated and one authenticated request to the contract's
batch / list operations. A target that is not there, not at that base URL, refuses the credentials or
does not speak JSON gets one line naming the cause and the fix (the CLI exits 2); no rule runs."""

from __future__ import annotations

from typing import Any

import httpx

from ..contract import Contract
from ..rules import Api, NoAnswer, Reply, TargetError, Unreachable

__all__ = ["PreflightFailed", "preflight"]

PREFLIGHT_TIMEOUT_S = 5.0


class PreflightFailed(RuntimeError):
    """The target cannot be checked as configured; the message is one line: cause, then fix."""


def _probe(contract: Contract) -> tuple[str, str, Any]:
    """(method, path, body) of the authenticated probe: the list operation, else an empty batch (which
    stores nothing: it is refused, or accepted with nothing in it)."""
    if contract.has("list"):
        listing = contract.operation("list")
        return listing.method, listing.url_path(), None
    batch = contract.batch_write
    return batch.method, batch.url_path(), contract.batch.wrap([])


def _send(api: Api, method: str, path: str, body: Any, *, auth: bool, base: str | None = None) -> Reply:
    timeout = min(api.timeout, PREFLIGHT_TIMEOUT_S)
    url = (base.rstrip("/") + path) if base is not None else path
    try:
        return api.request(method, url, json_body=body, auth=None if not auth else True, timeout=timeout)
    except Unreachable as exc:
        raise PreflightFailed(
            f"nothing is listening at {_origin(api.base_url)} ({_reason(exc)}): start the server, "
            "or fix the host and port of --base-url"
        ) from None
    except NoAnswer as exc:
        raise PreflightFailed(
            f"{exc}: the target accepts connections but does not answer HTTP; is it the API server, "
            "and is it up (not starting, not overloaded)? raise --request-timeout if it is just slow"
        ) from None
    except TargetError as exc:
        raise PreflightFailed(f"{exc}: check --base-url") from None


def preflight(api: Api, contract: Contract) -> None:
    """Raise ``PreflightFailed`` (one line) when the target cannot be checked as configured."""
    batch = contract.batch_write
    first = _send(api, batch.method, batch.url_path(), contract.batch.wrap([]), auth=False)
    if first.status == 405:  # the path exists but is not the batch operation: a base URL too deep
        raise PreflightFailed(
            _not_found(api, contract, batch.method, batch.url_path(), contract.batch.wrap([]), first)
        )
    method, path, body = _probe(contract)
    reply = _send(api, method, path, body, auth=True)
    if reply.status == 404:
        raise PreflightFailed(_not_found(api, contract, method, path, body, reply))
    if reply.status in (401, 403):
        raise PreflightFailed(
            f"{method} {api.base_url}{path} with the credentials given answered {_said(reply)}: check "
            f"{_credential_options(contract)} (or their environment variables); the account needs access "
            "to this API"
        )
    if not reply.is_json:
        hint = _suggestion(api, contract, method, path, body)
        raise PreflightFailed(
            f"{method} {api.base_url}{path} answered {_said(reply)}, which is not JSON: "
            + (f"did you mean --base-url {hint}?" if hint else "is --base-url the root of this API?")
        )


def _not_found(api: Api, contract: Contract, method: str, path: str, body: Any, reply: Reply) -> str:
    hint = _suggestion(api, contract, method, path, body)
    fix = (
        f"did you mean --base-url {hint}?"
        if hint
        else "--base-url must be the API root the spec's paths are appended to"
        + (f" (the spec's servers put it under {contract.base_path})" if contract.base_path else "")
    )
    said = "404: no such path" if reply.status == 404 else f"{reply.status}: that path does not take {method}"
    return f"{method} {api.base_url}{path} answered {said} on the target; {fix}"


def _suggestion(api: Api, contract: Contract, method: str, path: str, body: Any) -> str | None:
    """A base URL that answers the probe with JSON other than 404, tried among the likely ones: the
    spec's base path appended, or a base URL that wrongly ends with an operation's path, cut."""
    url = httpx.URL(api.base_url)
    here = url.path.rstrip("/")
    candidates = []
    if contract.base_path and not here.endswith(contract.base_path.rstrip("/")):
        candidates.append(here + contract.base_path.rstrip("/"))
    for operation in contract.operations.values():
        static = operation.path.split("{", 1)[0].rstrip("/")
        if static and here.endswith(static):
            candidates.append(here[: -len(static)])
    for candidate in dict.fromkeys(candidates):
        base = str(url.copy_with(path=candidate or "/")).rstrip("/")
        try:
            reply = _send(api, method, path, body, auth=True, base=base)
        except PreflightFailed:
            return None
        if reply.status != 404 and reply.is_json:
            return base
    return None


def _said(reply: Reply) -> str:
    kind = reply.headers.get("content-type", "no content type").split(";")[0]
    text = "".join(c if c.isprintable() else "?" for c in " ".join(reply.text.split()))
    snippet = text if len(text) <= 60 else text[:57] + "..."
    return f"{reply.status} ({kind}{': ' + snippet if snippet else ''})"


def _credential_options(contract: Contract) -> str:
    return "--username/--password" if contract.auth.kind == "basic" else "--token"


def _origin(base_url: str) -> str:
    url = httpx.URL(base_url)
    return f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "refused" in text.lower():
        return "connection refused"
    return text.split(": ", 1)[-1][:80] or "cannot connect"
