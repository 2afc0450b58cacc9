"""Stage 2b: client options from the spec — security schemes, shared header parameters, webhooks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from ._findings import Finding, join, warning
from ._hoist import json_media
from ._ir_ops import Operation, deref, ref_name
from ._naming import method_name, unique
from ._walk import iter_operations

__all__ = ["HeaderOption", "Security", "Webhook", "header_options", "security", "webhooks"]

_PARAMS_PREFIX = "#/components/parameters/"
# keyword arguments every generated client constructor has: a header option must not take one of them
_CLIENT_ARGUMENTS = frozenset(
    "self base_url username password headers timeout retry transport http_client sleep rng clock".split()
)
_NOT_OPTIONS = frozenset({"accept", "content-type", "authorization", "content-length"})


@dataclass(frozen=True)
class Security:
    scheme: str  # key in components/securitySchemes
    kind: Literal["basic", "bearer", "api_key"]
    option: str  # keyword argument of the client ("username" + "password" for basic)
    header: str  # header carrying the credential
    prefix: str | None  # word before the credential ("Token", "Bearer"); None: the credential alone
    description: str


@dataclass(frozen=True)
class HeaderOption:
    name: str  # header on the wire
    py_name: str  # keyword argument of the client
    description: str


@dataclass(frozen=True)
class Webhook:
    name: str
    method: str
    model: str | None


def _prefix_from(description: str, header: str) -> str | None:
    """`Authorization: Token key_...` in a scheme's description names the prefix word `Token`."""
    found = re.search(re.escape(header) + r":\s*`?([A-Za-z][A-Za-z0-9_-]*)\s+\S", description)
    return found.group(1) if found else None


def security(
    doc: dict[str, Any], prefixes: dict[str, str | None], findings: list[Finding]
) -> tuple[Security, ...]:
    """Supported schemes become client options; any other scheme is a warning (never silently dropped).

    ``prefixes``: scheme name → prefix stated by the contract (it wins over the scheme's description).
    """
    schemes = (doc.get("components") or {}).get("securitySchemes") or {}
    found: list[Security] = []
    taken = {"username", "password"}
    api_keys = [n for n, s in sorted(schemes.items()) if isinstance(s, dict) and s.get("type") == "apiKey"]
    for name, scheme in sorted(schemes.items()):
        if not isinstance(scheme, dict):
            continue
        kind, where = scheme.get("type"), join("", "components", "securitySchemes", name)
        http = str(scheme.get("scheme", "")).lower()
        description = str(scheme.get("description") or "").strip()
        if kind == "http" and http == "basic":
            if not any(s.kind == "basic" for s in found):
                found.append(Security(name, "basic", "username", "Authorization", "Basic", description))
            continue
        if kind == "http" and http == "bearer":
            option = unique("token" if "token" not in taken else method_name(name), taken)
            taken.add(option)
            found.append(Security(name, "bearer", option, "Authorization", "Bearer", description))
            continue
        if kind == "apiKey" and scheme.get("in") == "header" and isinstance(scheme.get("name"), str):
            header = scheme["name"]
            prefix = prefixes[name] if name in prefixes else _prefix_from(description, header)
            option = unique("api_key" if len(api_keys) == 1 else method_name(name), taken)
            taken.add(option)
            found.append(Security(name, "api_key", option, header, prefix, description))
            continue
        what = f"{kind}" + (f" in {scheme.get('in')}" if kind == "apiKey" else f" {http}" if http else "")
        findings.append(
            warning(
                where,
                f"security scheme {name!r} ({what}) is not supported by the generated client; "
                "send its credentials with `headers=`",
                rule="security",
            )
        )
    return tuple(found)


def header_options(
    doc: dict[str, Any],
    ops: list[Operation],
    extra: tuple[str, ...],
    auth_headers: set[str],
    reserved: set[str],
) -> tuple[HeaderOption, ...]:
    """Header parameters that are client-wide options: declared once under components/parameters, used
    by every operation, or named by the contract (``extra``). Other headers stay per-call arguments."""
    declared: dict[str, str] = {}
    for _path, _method, item, op in iter_operations(doc):
        for raw in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
            ref = raw.get("$ref") if isinstance(raw, dict) else None
            param = deref(doc, raw)
            if isinstance(ref, str) and ref.startswith(_PARAMS_PREFIX) and param.get("in") == "header":
                declared[str(param.get("name"))] = str(param.get("description") or "").strip()
    headers = [{p.name for p in op.params if p.location == "header"} for op in ops]
    everywhere = set.intersection(*headers) if headers else set()
    names = sorted({*declared, *everywhere, *extra})
    taken = {*_CLIENT_ARGUMENTS, *reserved}
    options = []
    for name in names:
        if name.lower() in _NOT_OPTIONS or name.lower() in {h.lower() for h in auth_headers}:
            continue
        py_name = unique(method_name(name, fallback="header"), taken)
        taken.add(py_name)
        text = declared.get(name, "").splitlines()
        options.append(HeaderOption(name, py_name, text[0] if text else ""))
    return tuple(options)


def webhooks(doc: dict[str, Any], findings: list[Finding]) -> tuple[Webhook, ...]:
    """OpenAPI 3.1 `webhooks`: requests the API sends to you. No client method; their payload models are
    generated and listed in `WEBHOOK_PAYLOADS`; a warning names each one."""
    found = []
    for name, item in sorted((doc.get("webhooks") or {}).items()):
        item = deref(doc, item)
        if not isinstance(item, dict):
            continue
        for method in ("post", "put", "get", "patch", "delete"):
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            media = json_media(deref(doc, op.get("requestBody")))
            model = ref_name(media[1].get("schema")) if media else None
            found.append(Webhook(str(name), method.upper(), model))
            payload = f"payload model {model}" if model else "no JSON payload schema"
            message = (
                f"webhook {name!r} ({method.upper()}) is sent by the API to you: no client method; {payload}"
            )
            findings.append(warning(join("", "webhooks", name, method), message, rule="webhooks"))
    return tuple(found)
